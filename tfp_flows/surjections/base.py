"""Surjection wrappers: a `tfd.Distribution` over x that wraps an inner distribution over z.

SurVAE Flows (Nielsen et al. 2020, arXiv:2007.02731, Sec. 2-3): a layer
between data x and latent z contributes a likelihood term V(x, z) so that
`log p(x) ~= log p(z) + V(x, z)`.

* Inference surjections (abs, sort, max, max-pool, slice): z = f(x) is
  deterministic, V = log p(x | z) of the stochastic generative direction, and
  the total is exact (Sec. 3.1, Eq. 9).
* Generative surjections (augment, dequantization) and stochastic layers
  (VAE): z ~ q(z | x), V = log p(x | z) - log q(z | x), and the total is a
  one-sample lower bound (Sec. 3.2, Eq. 8, the ELBO).
* Approximate layers (overlapping max-pooling): `log p(z) + V` is neither
  the log-likelihood nor a bound on it.

The likelihood contract of a model (`likelihood(dist)`) is "exact",
"bound" or "approximate"; any approximate part makes the whole approximate,
otherwise any bound part makes it a bound. Report numbers with `MARKS`.

Direction: TFP's convention. `sample()` runs the generative direction
latent -> data; `log_prob(x)` runs data -> latent, which the SurVAE paper and
its reference code call "forward".
"""
import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions


EXACT, BOUND, APPROXIMATE = "exact", "bound", "approximate"
CONTRACTS = (EXACT, BOUND, APPROXIMATE)  # the later one wins when parts are combined
MARKS = {EXACT: "exact", BOUND: "bound", APPROXIMATE: "approx."}  # how tables show them


def combine(*contracts):
  """The contract of a model made of parts: approximate if any part is, else bound if any is."""
  return max(contracts, key=CONTRACTS.index, default=EXACT)


def likelihood(dist):
  """The likelihood contract of `dist.log_prob`: "exact", "bound" or "approximate".

  A surjection wrapper combines its layer's contract with its inner
  distribution's; a distribution that wraps another (`distribution`
  attribute, e.g. `tfd.TransformedDistribution`, `tfd.Independent`) has the
  wrapped one's; any other TFP distribution is exact.

  Args:
    dist: a `tfd.Distribution`.

  Returns:
    One of `CONTRACTS`.
  """
  if isinstance(dist, SurjectiveDistribution):
    return dist.likelihood
  inner = getattr(dist, "distribution", None)
  return likelihood(inner) if isinstance(inner, tfd.Distribution) else EXACT


def is_exact(dist):
  """Whether `dist.log_prob` is an exact log-density (`likelihood(dist) == "exact"`)."""
  return likelihood(dist) == EXACT


def check_inner(owner, inner):
  """Raises TypeError unless `inner` is a `tfd.Distribution`; returns it."""
  if not isinstance(inner, tfd.Distribution):
    raise TypeError(f"{owner}: inner must be a tfd.Distribution, got {inner!r} of type "
                    f"{type(inner).__name__}.")
  return inner


def check_vector_event(owner, inner, what):
  """Raises ValueError unless `inner` has a vector event `[D]`; returns D.

  Args:
    owner: class name, for the message.
    inner: `tfd.Distribution`.
    what: the requirement, e.g. "a vector event [D] to permute".

  Raises:
    TypeError: if `inner` is not a `tfd.Distribution`.
    ValueError: if its event is not a vector.
  """
  check_inner(owner, inner)
  if inner.event_shape.rank != 1:
    raise ValueError(f"{owner}: inner must be a distribution with {what}, got event shape "
                     f"{inner.event_shape}.")
  return int(inner.event_shape[0])


class SurjectiveDistribution(tfd.Distribution):
  """Bookkeeping shared by all surjection wrappers.

  `log_prob(x)` = `inner.log_prob(z)` + contribution, with `(z, contribution)`
  from the subclass's `_inference(x, seed)`; `sample(n)` draws z from `inner`
  and returns the subclass's `_generate(z, seed)`. Subclasses set
  `layer_is_exact` (False for a bound) or `layer_is_approximate` and supply
  those two methods.

  Randomness: `log_prob(x, seed=...)` takes an optional seed for the
  stochastic directions (split between this layer and a directly nested
  surjection wrapper); without one, every call draws fresh noise, so k calls
  give k independent bound samples (`tfp_flows.metrics.log_likelihood`).
  Wrappers nested below a `tfd.TransformedDistribution` draw fresh noise,
  since TFP does not pass the seed through.

  Shapes: x is `[sample..., batch..., event_shape]`, z is
  `[sample..., batch..., inner.event_shape]`; `log_prob` is
  `[sample..., batch...]` in nats.

  Args:
    inner: `tfd.Distribution` over z with a fully known static event shape.
    event_shape: static event shape of x.
    reparameterized: whether `sample` is differentiable in `inner`'s samples.
    validate_args: Python bool; enables the run-time checks subclasses document.
    parameters: the subclass's constructor arguments (`dict(locals())`).
    name: name of the distribution.

  Raises:
    TypeError: if `inner` is not a `tfd.Distribution`.
    ValueError: if `inner`'s event shape is not fully known; in `log_prob`,
      if the trailing axes of x do not match `event_shape`.
  """

  layer_is_exact = True
  layer_is_approximate = False

  def __init__(self, inner, event_shape, reparameterized=True, validate_args=False,
               parameters=None, name=None):
    check_inner(type(self).__name__, inner)
    if not inner.event_shape.is_fully_defined():
      raise ValueError(f"The inner distribution needs a static event shape, got "
                       f"{inner.event_shape}.")
    self._inner = inner
    self._x_event_shape = tf.TensorShape(event_shape)
    super().__init__(
        dtype=inner.dtype,
        reparameterization_type=(inner.reparameterization_type if reparameterized
                                 else tfd.NOT_REPARAMETERIZED),
        validate_args=validate_args, allow_nan_stats=True,
        parameters=parameters, name=name)

  @classmethod
  def _parameter_properties(cls, dtype, num_classes=None):
    return {}

  @property
  def inner(self):
    """The inner distribution over z."""
    return self._inner

  @property
  def likelihood(self):
    """The contract of `log_prob`: this layer's combined with `inner`'s (see `combine`)."""
    layer = (APPROXIMATE if self.layer_is_approximate
             else EXACT if self.layer_is_exact else BOUND)
    return combine(layer, likelihood(self._inner))

  @property
  def is_exact(self):
    """True iff `log_prob` is exact: the layer is exact and so is `inner`."""
    return self.likelihood == EXACT

  def _event_shape(self):
    return self._x_event_shape

  def _event_shape_tensor(self):
    return tf.constant(self._x_event_shape.as_list(), dtype=tf.int32)

  def _batch_shape(self):
    return self._inner.batch_shape

  def _batch_shape_tensor(self):
    return self._inner.batch_shape_tensor()

  def _check_x(self, x):
    """Raises ValueError when the static trailing axes of x are not `event_shape`."""
    event, shape = self._x_event_shape, x.shape
    if shape.rank is None:
      return
    if shape.rank < event.rank or not shape[shape.rank - event.rank:].is_compatible_with(event):
      raise ValueError(f"{type(self).__name__}.log_prob: x has shape {shape}, expected "
                       f"[..., {', '.join(map(str, event.as_list()))}] (event shape {event}).")

  def _log_prob(self, x, seed=None):
    layer_seed, inner_seed = tfp.random.split_seed(seed, n=2)
    x = tf.convert_to_tensor(x, self.dtype)
    self._check_x(x)
    z, contribution = self._inference(x, layer_seed)
    if isinstance(self._inner, SurjectiveDistribution):
      return self._inner.log_prob(z, seed=inner_seed) + contribution
    return self._inner.log_prob(z) + contribution

  def _sample_n(self, n, seed=None):
    inner_seed, layer_seed = tfp.random.split_seed(seed, n=2)
    return self._generate(self._inner.sample(n, seed=inner_seed), layer_seed)

  def _inference(self, x, seed):
    """Data -> latent: returns `(z, contribution [sample..., batch...])`."""
    raise NotImplementedError

  def _generate(self, z, seed):
    """Latent -> data: returns x."""
    raise NotImplementedError
