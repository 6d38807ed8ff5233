"""Uniform and variational dequantization (SurVAE Sec. 4.1, "Dequantization"; Flow++)."""
import math

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.surjections.base import SurjectiveDistribution, check
from tfp_flows.surjections.conditional import ConditionalLocScale

tfd, tfb = tfp.distributions, tfp.bijectors


class DequantizationDistribution(SurjectiveDistribution):
  """Distribution of integer data x = floor(K z) with z ~ inner on [0, 1)^D, K = 2^bits.

  Data -> latent (the SurVAE paper's "forward"): u ~ q(u | x) on (0, 1)^D,
  z = (x + u) / K. Latent -> data (`sample`): x = clip(floor(K z), 0, K - 1).
  Likelihood contribution (Nielsen et al. 2020, Sec. 4.1, Eq. 8; Uria et al.
  2013; Ho et al. 2019 "Flow++"): `log p(x | z) - log q(z | x) = -D log K -
  log q(u | x)`; with uniform noise (`noise=None`) `log q(u | x) = 0`. So
  `log_prob` is a one-sample lower bound on log P(x), the log-probability
  mass of x in nats; `-log_prob / (D log 2)` is bits per dimension of the
  discrete data with no further offset.

  Shapes: x and z `[..., *event_shape]`; x holds integer values stored as floats.

  Args:
    inner: `tfd.Distribution` over z (mass on [0, 1)^D for a normalised model).
    num_bits: bits per value; x takes values in {0, ..., 2^bits - 1}.
    noise: optional callable `x -> tfd.Distribution` over u in (0, 1)^D with the
      event shape of x (variational dequantization); None for uniform noise.
    name: name of the distribution.

  Raises:
    ValueError: eagerly, when `log_prob` gets non-integer or out-of-range x
      (inside `tf.function`, tf.errors.InvalidArgumentError at run time).
  """

  layer_is_exact = False

  def __init__(self, inner, num_bits=8, noise=None, name="dequantization"):
    parameters = dict(locals())
    self._bins, self._noise = 2 ** int(num_bits), noise
    super().__init__(inner, inner.event_shape, reparameterized=False,
                     parameters=parameters, name=name)

  def _inference(self, x, seed):
    check((x == tf.floor(x)) & (x >= 0) & (x < self._bins),
          f"Dequantization expects integer values in [0, {self._bins - 1}] "
          f"({self._bins} bins); got non-integer or out-of-range values.")
    axes = list(range(-self.event_shape.rank, 0))
    size = self.event_shape.num_elements()
    log_p = tf.fill(tf.shape(x)[:tf.rank(x) - len(axes)],
                    tf.constant(-size * math.log(self._bins), x.dtype))
    if self._noise is None:
      u = tf.random.stateless_uniform(tf.shape(x), seed, dtype=x.dtype)
      return (x + u) / self._bins, log_p
    q = self._noise(x)
    u = tf.cast(q.sample(seed=seed), x.dtype)
    return (x + u) / self._bins, log_p - q.log_prob(u)

  def _generate(self, z, seed):
    return tf.clip_by_value(tf.floor(z * self._bins), 0, self._bins - 1)


@keras.saving.register_keras_serializable(package="tfp_flows")
class UniformDequantization(keras.layers.Layer):
  """Layer form (no variables) of uniform dequantization, for stacking like the learned layers.

  Args:
    num_bits: bits per value.
    **kwargs: passed to `keras.layers.Layer`.
  """

  def __init__(self, num_bits=8, **kwargs):
    super().__init__(**kwargs)
    self.num_bits = int(num_bits)
    self.built = True

  def distribution(self, inner, context=None):
    """`DequantizationDistribution` with uniform noise; `context` is accepted and ignored."""
    return DequantizationDistribution(inner, self.num_bits)

  def get_config(self):
    return {**super().get_config(), "num_bits": self.num_bits}


@keras.saving.register_keras_serializable(package="tfp_flows")
class VariationalDequantization(keras.layers.Layer):
  """Learned dequantization noise q(u | x, context): a conditional logistic pushed through a sigmoid.

  The noise flow is `u = sigmoid(loc(x) + scale(x) * eps)`, eps ~ Logistic(0, 1),
  its location and scale an MLP of the centred input `2 x / (K - 1) - 1` (and
  the context): a one-step conditional flow onto (0, 1)^D (a simplification
  of Flow++'s coupling flow; Ho et al. 2019, Sec. 3.1). With loc = 0 and
  scale = 1 it is exactly uniform dequantization, and its density stays
  positive at the cell edges, unlike a sigmoid of a Gaussian, whose
  importance weights have infinite variance there.

  Args:
    event_size: D (x is `[..., D]`).
    num_bits: bits per value.
    context_size: C of the context the noise MLP sees, or None.
    hidden: hidden widths of the noise MLP.
    **kwargs: passed to `keras.layers.Layer`.
  """

  def __init__(self, event_size, num_bits=8, context_size=None, hidden=(64,), **kwargs):
    super().__init__(**kwargs)
    self.event_size, self.num_bits, self.hidden = int(event_size), int(num_bits), tuple(hidden)
    self.context_size = context_size
    self.noise_net = ConditionalLocScale(self.event_size, self.event_size, context_size,
                                         hidden, family="logistic", dtype=self.dtype_policy)
    self.built = True

  def noise(self, x, context=None):
    """q(u | x, context) as a `tfd.TransformedDistribution` over (0, 1)^D."""
    centred = 2.0 * x / (2 ** self.num_bits - 1) - 1.0
    return tfd.TransformedDistribution(
        self.noise_net.distribution(centred, context=context), tfb.Sigmoid())

  def distribution(self, inner, context=None):
    """`DequantizationDistribution` with the learned noise, on `inner` over [0, 1)^D."""
    return DequantizationDistribution(inner, self.num_bits,
                                      noise=lambda x: self.noise(x, context))

  def get_config(self):
    return {**super().get_config(), "event_size": self.event_size,
            "num_bits": self.num_bits, "context_size": self.context_size,
            "hidden": self.hidden}
