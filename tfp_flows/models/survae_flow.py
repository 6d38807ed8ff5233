"""A general SurVAE flow: a standard-normal base under flow steps and surjection layers, trained by `model.fit`."""
import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.checks import check_int, check_ints
from tfp_flows.layers.flow import chain
from tfp_flows.metrics.likelihood import log_likelihood
from tfp_flows.surjections.base import is_exact

tfb, tfd = tfp.bijectors, tfp.distributions
JSON_SAFE = (type(None), bool, int, float, str)


def _kind(part, index):
  """`"fixed"` (a `tfb.Bijector`), `"step"` (`bijector(...)`) or `"surjection"` (`distribution(inner, ...)`)."""
  if isinstance(part, tfb.Bijector):
    return "fixed"
  if callable(getattr(part, "bijector", None)):
    return "step"
  if callable(getattr(part, "distribution", None)):
    return "surjection"
  raise TypeError(f"SurVAEFlow: parts[{index}] must be a flow-step layer (with bijector()), a "
                  f"surjection layer (with distribution(inner, context)) or a tfb.Bijector, "
                  f"got {part!r}.")


def _serialize(part):
  if not isinstance(part, tfb.Bijector):
    return keras.saving.serialize_keras_object(part)
  params = {k: v for k, v in part.parameters.items() if k != "name"}
  if not all(isinstance(v, JSON_SAFE) for v in params.values()):
    raise TypeError(f"SurVAEFlow cannot save the fixed bijector {part.name!r}: its parameters "
                    f"{params} are not all Python scalars; wrap it in a Keras layer.")
  return {"tfp_bijector": type(part).__name__, "parameters": params}


def _deserialize(config):
  if "tfp_bijector" in config:
    return getattr(tfb, config["tfp_bijector"])(**config["parameters"])
  return keras.saving.deserialize_keras_object(config)


@keras.saving.register_keras_serializable(package="tfp_flows")
class SurVAEFlow(keras.Model):
  """A SurVAE flow (Nielsen et al. 2020, arXiv:2007.02731): bijections and surjections over N(0, I).

  `parts` is listed data side first, as in `tfp_flows.layers.chain`: the
  density direction (`log_prob`, the paper's "forward") applies `parts[0]`
  first; sampling applies it last. Each part is one of
  * a flow-step layer (`step.bijector(context=None, training=None)`, e.g.
    `layers.AffineCoupling`); consecutive steps are chained by
    `layers.chain`, steps with a `context_size` get the context;
  * a fixed `tfb.Bijector` without variables (e.g. `tfb.Softplus()` under
    `layers.Abs`, `tfb.Ascending()` under a sort), composed with the steps
    next to it in one `tfb.Chain`;
  * a surjection layer (`layer.distribution(inner, context=None)`, e.g.
    `layers.Abs`, `layers.Slice`, `layers.Augment`, `layers.Max`), which
    wraps everything on its latent side; it gets the context iff its
    `context_size` is not None.
  The base is `N(0, I)` over `latent_shape`, the event shape the latent-most
  part expects (`()` for a scalar latent, e.g. under `Max(2)`).

  Exactness (`is_exact`): `log_prob` is the exact log-density when every
  surjection is an inference surjection (abs, sort, max, slice); with a
  generative or stochastic layer (augment, dequantization, VAE) it is a
  one-sample lower bound (SurVAE Eq. 8), and `log_likelihood(x, k)` gives the
  importance-weighted estimate.

  Training: `call(x)` (conditional: `call((x, context))`) returns `log_prob`
  `[batch]` in nats; the loss is `-mean(log_prob)` (the negative one-sample
  bound for bound models) unless `compile` is given another loss.

  Args:
    parts: non-empty list of parts, data side first (see above).
    latent_shape: event shape of the standard-normal base, e.g. `(2,)` or `()`.
    context_size: C of the context given to the conditional parts, or None.
    **kwargs: passed to `keras.Model`.

  Raises:
    TypeError: for a part of none of the three kinds, or a non-integer shape
      or `context_size`.
    ValueError: for empty `parts`, or a part whose `context_size` is not the
      model's.

  Example:
    >>> import keras, numpy as np, tensorflow_probability as tfp
    >>> from tfp_flows import layers
    >>> from tfp_flows.models import SurVAEFlow
    >>> flow = [layers.AffineCoupling(2, hidden=(32,)), layers.Householder(2)]
    >>> model = SurVAEFlow([layers.Abs(2), tfp.bijectors.Softplus(), *flow], latent_shape=(2,))
    >>> model.compile(optimizer=keras.optimizers.Adam(1e-3))
    >>> x = np.random.default_rng(0).normal(size=(512, 2)).astype("float32")
    >>> history = model.fit(x, batch_size=128, epochs=2, verbose=0)
    >>> model.is_exact, model.distribution().log_prob(x[:3]).shape
    (True, TensorShape([3]))
  """

  def __init__(self, parts, latent_shape, context_size=None, **kwargs):
    super().__init__(**kwargs)
    parts = [_deserialize(p) if isinstance(p, dict) else p for p in parts]
    if not parts:
      raise ValueError("SurVAEFlow: parts must be a non-empty list of steps and surjections.")
    self.kinds = [_kind(p, i) for i, p in enumerate(parts)]
    self.latent_shape = check_ints("SurVAEFlow", "latent_shape", latent_shape)
    self.context_size = check_int("SurVAEFlow", "context_size", context_size, optional=True)
    for i, part in enumerate(parts):
      size = getattr(part, "context_size", None)
      if size is not None and size != self.context_size:
        raise ValueError(f"SurVAEFlow: parts[{i}] ({type(part).__name__}) expects a context "
                         f"of width {size}, but context_size={self.context_size}.")
    self.parts = parts
    self.built = True  # the parts own all the state

  def _base(self):
    normal = tfd.Normal(tf.constant(0.0, self.compute_dtype), 1.0)
    return tfd.Sample(normal, self.latent_shape) if self.latent_shape else normal

  def _bijector(self, run, context, training):
    """One bijector for a run of steps and fixed bijectors (data side first)."""
    pieces, steps = [], []
    for part, kind in run + [(None, "end")]:
      if kind == "step":
        steps.append(part)
        continue
      if steps:
        pieces.append(chain(steps, context, training))
        steps = []
      if kind == "fixed":
        pieces.append(part)
    return pieces[0] if len(pieces) == 1 else tfb.Chain(pieces)

  def distribution(self, context=None, training=None):
    """The model's `tfd.Distribution` over x, given `context [batch, C]` for a conditional model.

    Raises:
      ValueError: for a context that does not fit the parts (see
        `tfp_flows.layers.flow.check_context`).
    """
    dist, run = self._base(), []
    for part, kind in reversed(list(zip(self.parts, self.kinds))):  # latent side first
      if kind != "surjection":
        run.insert(0, (part, kind))
        continue
      if run:
        dist, run = tfd.TransformedDistribution(dist, self._bijector(run, context, training)), []
      dist = part.distribution(dist, context if part.context_size is not None else None)
    if run:
      dist = tfd.TransformedDistribution(dist, self._bijector(run, context, training))
    return dist

  @property
  def is_exact(self):
    """True iff `log_prob` is the exact log-density; False for a one-sample bound."""
    context = None if self.context_size is None else tf.zeros([1, self.context_size],
                                                               self.compute_dtype)
    return is_exact(self.distribution(context))

  def call(self, inputs, training=None):
    """`log_prob` `[batch]` in nats of x (`inputs`), or of `(x, context)` for a conditional model."""
    if self.context_size is None:
      x, context = inputs, None
    elif isinstance(inputs, (tuple, list)) and len(inputs) == 2:
      x, context = inputs
    else:
      raise ValueError(f"SurVAEFlow with context_size={self.context_size} takes (x, context), "
                       f"got {type(inputs).__name__}.")
    return self.distribution(context, training).log_prob(x)

  def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
    if self._compile_loss is not None:  # a loss given to compile() wins
      return super().compute_loss(x, y, y_pred, sample_weight, training)
    return -tf.reduce_mean(y_pred)

  def log_likelihood(self, x, context=None, num_samples=1000, chunk_size=100):
    """log p(x) `[batch]` in nats: exact, or the importance-weighted estimate of a bound model.

    See `tfp_flows.metrics.log_likelihood`.
    """
    return log_likelihood(self.distribution(context), x, num_samples, chunk_size)

  def get_config(self):
    return {**super().get_config(), "latent_shape": self.latent_shape,
            "context_size": self.context_size, "parts": [_serialize(p) for p in self.parts]}
