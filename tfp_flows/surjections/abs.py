"""Absolute-value surjection x -> |x| with a learnable sign probability (SurVAE Sec. 4.1)."""
import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.layers.dense import Dense
from tfp_flows.surjections.base import SurjectiveDistribution, check

tfd = tfp.distributions


class AbsDistribution(SurjectiveDistribution):
  """Distribution of x = s * z with z ~ inner (z >= 0) and independent signs s.

  Data -> latent (the SurVAE paper's "forward"): z = |x|, deterministic.
  Latent -> data (TFP's forward, used by `sample`): s_d = +1 with probability
  q_d, else -1, and x = s * z. Likelihood contribution (Nielsen et al. 2020,
  Sec. 4.1 "Abs", Eq. 9): `log p(x | z) = sum_d [x_d >= 0] log q_d +
  [x_d < 0] log(1 - q_d)`, so the total is exact. With q = 1/2 (the reference
  `SimpleAbsSurjection`) it is `-D log 2`.

  The inner distribution must put all its mass on z >= 0 (e.g. end its
  bijector chain with `tfb.Softplus()`); otherwise `log_prob` still equals
  the formula above but does not integrate to one.

  Shapes: x and z are `[..., *event_shape]`; `logits` broadcasts against them.

  Args:
    inner: `tfd.Distribution` over z >= 0.
    logits: logit of q, the probability of a positive sign, broadcastable to
      `[batch..., *event_shape]`.
    validate_args: if True, `sample` checks that the inner samples are >= 0.
    name: name of the distribution.

  Raises:
    ValueError / InvalidArgumentError: with `validate_args`, when `sample`
      draws a negative z from `inner`.
  """

  def __init__(self, inner, logits, validate_args=False, name="abs_surjection"):
    parameters = dict(locals())
    self._logits = tf.convert_to_tensor(logits, dtype=inner.dtype)
    super().__init__(inner, inner.event_shape, validate_args=validate_args,
                     parameters=parameters, name=name)

  @property
  def sign_probability(self):
    """q, the probability of a positive sign, broadcastable to the event."""
    return tf.sigmoid(self._logits)

  def _inference(self, x, seed):
    log_q = tf.where(x >= 0, tf.math.log_sigmoid(self._logits),
                     tf.math.log_sigmoid(-self._logits))
    axes = list(range(-self.event_shape.rank, 0))
    return tf.abs(x), tf.reduce_sum(log_q, axis=axes)

  def _generate(self, z, seed):
    if self.validate_args:
      check(z >= 0, "Abs: the inner distribution sampled negative z, which |x| "
            "cannot produce; make the inner distribution non-negative (e.g. "
            "tfb.Softplus as its last bijector).")
    u = tf.random.stateless_uniform(tf.shape(z), seed, dtype=z.dtype)
    return tf.where(u < self.sign_probability, z, -z)


@keras.saving.register_keras_serializable(package="tfp_flows")
class Abs(keras.layers.Layer):
  """Keras layer owning the sign logits of an `AbsDistribution`.

  Args:
    event_size: D, the size of the last axis of x (the event may have more axes;
      q is per position of the last axis).
    q: initial (or fixed) probability of a positive sign, in (0, 1).
    learn_q: whether q is trained (a logit variable) or fixed.
    context_size: optional width C of a context; then logit(q) gets an added
      `Dense(D)(context)`, so q depends on the context.
    validate_args: passed to the distribution.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    ValueError: if q is not in (0, 1) or `event_size < 1`.

  Example:
    >>> base = tfd.TransformedDistribution(tfd.Sample(tfd.Normal(0., 1.), 2), tfb.Softplus())
    >>> Abs(2).distribution(base).log_prob([[-1., 2.]]).shape
    TensorShape([1])
  """

  def __init__(self, event_size, q=0.5, learn_q=True, context_size=None,
               validate_args=False, **kwargs):
    super().__init__(**kwargs)
    if not 0.0 < float(q) < 1.0:
      raise ValueError(f"q must lie in (0, 1), got {q}.")
    if int(event_size) < 1:
      raise ValueError(f"event_size must be >= 1, got {event_size}.")
    self.event_size, self.q, self.learn_q = int(event_size), float(q), bool(learn_q)
    self.context_size, self.validate_args = context_size, bool(validate_args)
    self.logits = self.add_weight(
        name="logits", shape=(self.event_size,), trainable=self.learn_q,
        initializer=keras.initializers.Constant(float(np.log(q / (1 - q)))))
    self.context_net = (None if context_size is None else
                        Dense(self.event_size, dtype=self.dtype_policy))
    if context_size is not None:
      self.context_net.build((int(context_size),))
    self.built = True

  def distribution(self, inner, context=None):
    """`AbsDistribution` over x on top of `inner` (a distribution over |x|).

    Args:
      inner: `tfd.Distribution` over z >= 0 with event `[..., D]`.
      context: `[batch..., C]` when built with `context_size`, else None.

    Raises:
      ValueError: if a context is given to a layer built without one, or vice versa.
    """
    if (context is None) != (self.context_net is None):
      raise ValueError("Abs was built " + ("with" if self.context_net else "without")
                       + " a context_size; pass a context accordingly.")
    logits = tf.convert_to_tensor(self.logits)
    if context is not None:
      logits = logits + self.context_net(context)
    return AbsDistribution(inner, logits, validate_args=self.validate_args)

  def call(self, x):
    """Data -> latent: returns |x|."""
    return tf.abs(x)

  def get_config(self):
    return {**super().get_config(), "event_size": self.event_size, "q": self.q,
            "learn_q": self.learn_q, "context_size": self.context_size,
            "validate_args": self.validate_args}
