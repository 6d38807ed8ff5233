"""Absolute-value surjection x -> |x| with a learnable sign probability (SurVAE Sec. 4.1).

The Keras layer owning its learned parts is `tfp_flows.layers.Abs`
(`tfp_flows/layers/surjections/abs.py`).
"""
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.checks import check_values
from tfp_flows.surjections.base import SurjectiveDistribution, check_inner

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
    ValueError: if `logits` does not broadcast against `inner`'s batch and
      event shape.
    ValueError / InvalidArgumentError: with `validate_args`, when `sample`
      draws a negative z from `inner`.
  """

  def __init__(self, inner, logits, validate_args=False, name="abs_surjection"):
    parameters = dict(locals())
    check_inner("AbsDistribution", inner)
    self._logits = tf.convert_to_tensor(logits, dtype=inner.dtype)
    try:
      tf.broadcast_static_shape(self._logits.shape, inner.batch_shape + inner.event_shape)
    except ValueError:
      raise ValueError(f"AbsDistribution: logits of shape {self._logits.shape} do not "
                       f"broadcast against the batch and event shape "
                       f"{inner.batch_shape + inner.event_shape} of inner.") from None
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
      check_values("AbsDistribution.sample", "z", z, z >= 0,
                   ">= 0 (the inner sample; |x| cannot be negative)",
                   "make the inner distribution non-negative (e.g. tfb.Softplus as its "
                   "last bijector)")
    u = tf.random.stateless_uniform(tf.shape(z), seed, dtype=z.dtype)
    return tf.where(u < self.sign_probability, z, -z)
