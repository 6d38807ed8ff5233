"""Uniform and variational dequantization (SurVAE Sec. 4.1, "Dequantization"; Flow++).

The Keras layers are `tfp_flows.layers.UniformDequantization` and
`tfp_flows.layers.VariationalDequantization` (`tfp_flows/layers/surjections/`).
"""
import math

import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.checks import check_callable, check_int, check_values
from tfp_flows.surjections.base import SurjectiveDistribution, check_inner

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
      u and log q(u | x) are drawn together (`experimental_sample_and_log_prob`),
      so a flow noise is evaluated at its own draw and never inverted.
    name: name of the distribution.

  Raises:
    TypeError: if `num_bits` is not an integer or `noise` neither None nor callable.
    ValueError: if `num_bits < 1`; eagerly, when `log_prob` gets non-integer
      or out-of-range x (inside `tf.function`, tf.errors.InvalidArgumentError
      at run time).
  """

  layer_is_exact = False

  def __init__(self, inner, num_bits=8, noise=None, name="dequantization"):
    parameters = dict(locals())
    check_inner("DequantizationDistribution", inner)
    num_bits = check_int("DequantizationDistribution", "num_bits", num_bits)
    if noise is not None:
      check_callable("DequantizationDistribution", "noise", noise, "a tfd.Distribution")
    self._bins, self._noise = 2 ** num_bits, noise
    super().__init__(inner, inner.event_shape, reparameterized=False,
                     parameters=parameters, name=name)

  def _inference(self, x, seed):
    check_values("DequantizationDistribution.log_prob", "x", x,
                 (x == tf.floor(x)) & (x >= 0) & (x < self._bins),
                 f"integer values in [0, {self._bins - 1}] ({self._bins} bins)")
    axes = list(range(-self.event_shape.rank, 0))
    size = self.event_shape.num_elements()
    log_p = tf.fill(tf.shape(x)[:tf.rank(x) - len(axes)],
                    tf.constant(-size * math.log(self._bins), x.dtype))
    if self._noise is None:
      u = tf.random.stateless_uniform(tf.shape(x), seed, dtype=x.dtype)
      return (x + u) / self._bins, log_p
    u, log_q = self._noise(x).experimental_sample_and_log_prob(seed=seed)
    return (x + tf.cast(u, x.dtype)) / self._bins, log_p - tf.cast(log_q, x.dtype)

  def _generate(self, z, seed):
    return tf.clip_by_value(tf.floor(z * self._bins), 0, self._bins - 1)
