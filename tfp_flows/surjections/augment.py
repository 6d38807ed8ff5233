"""Augment surjection: append noise from an encoder q(e | x) (SurVAE Sec. 4.1, "Augment").

The Keras layer owning its learned parts is `tfp_flows.layers.Augment`
(`tfp_flows/layers/surjections/augment.py`).
"""
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.checks import check_callable, check_int
from tfp_flows.surjections.base import SurjectiveDistribution, check_inner

tfd = tfp.distributions


class AugmentDistribution(SurjectiveDistribution):
  """Distribution of x = z[..., :D] with z ~ inner over `[D + A]`; a generative surjection.

  Data -> latent (the SurVAE paper's "forward"): e ~ q(e | x), z = concat(x, e).
  Latent -> data (`sample`): x = z[..., :D], deterministic. Likelihood
  contribution (Nielsen et al. 2020, Sec. 4.1 "Augment", Eq. 8; augmented
  flows, Huang et al. 2020, Chen et al. 2020): `-log q(e | x)`, so `log_prob`
  is a one-sample lower bound on log p(x) (`is_exact` is False); the
  importance-weighted estimate over k draws tightens it.

  Shapes: x `[..., D]`, e `[..., A]`, z `[..., D + A]`.

  Args:
    inner: `tfd.Distribution` over z with event `[D + A]`.
    encoder: callable `x [..., D] -> tfd.Distribution` over e with event `[A]`.
    event_size: D.
    name: name of the distribution.

  Raises:
    TypeError: if `encoder` is not callable or `event_size` not an integer.
    ValueError: if `event_size < 1` or `inner`'s event is not a vector larger than D.
  """

  layer_is_exact = False

  def __init__(self, inner, encoder, event_size, name="augment_surjection"):
    parameters = dict(locals())
    check_inner("AugmentDistribution", inner)
    event_size = check_int("AugmentDistribution", "event_size", event_size)
    check_callable("AugmentDistribution", "encoder", encoder, "a tfd.Distribution")
    if inner.event_shape.rank != 1 or inner.event_shape[0] <= event_size:
      raise ValueError(f"Augment of x with D = {event_size} entries needs an inner event "
                       f"shape [D + A] with A > 0, got {inner.event_shape}.")
    self._encoder = encoder
    super().__init__(inner, [event_size], parameters=parameters, name=name)

  def _inference(self, x, seed):
    q = self._encoder(x)
    e = tf.cast(q.sample(seed=seed), x.dtype)
    return tf.concat([x, e], axis=-1), -q.log_prob(e)

  def _generate(self, z, seed):
    return z[..., :self.event_shape[0]]
