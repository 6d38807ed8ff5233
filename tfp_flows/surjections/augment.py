"""Augment surjection: append noise from an encoder q(e | x) (SurVAE Sec. 4.1, "Augment")."""
import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.surjections.base import SurjectiveDistribution
from tfp_flows.surjections.conditional import ConditionalLocScale

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
    ValueError: if `inner`'s event is not a vector larger than D.
  """

  layer_is_exact = False

  def __init__(self, inner, encoder, event_size, name="augment_surjection"):
    parameters = dict(locals())
    event_size = int(event_size)
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


@keras.saving.register_keras_serializable(package="tfp_flows")
class Augment(keras.layers.Layer):
  """Keras layer owning the encoder q(e | x, context) of an `AugmentDistribution`.

  Args:
    event_size: D, the size of x.
    augment_size: A, the number of appended entries.
    learned: False: q(e | x) = N(0, I), no variables (the paper's toy
      experiments); True: a `ConditionalLocScale` MLP of x (and the context).
    context_size: C of the context a learned encoder sees, or None.
    hidden: hidden widths of the learned encoder.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    ValueError: if `event_size` or `augment_size` is < 1.
  """

  def __init__(self, event_size, augment_size, learned=False, context_size=None,
               hidden=(64,), **kwargs):
    super().__init__(**kwargs)
    if int(event_size) < 1 or int(augment_size) < 1:
      raise ValueError(f"event_size and augment_size must be >= 1, got {event_size} "
                       f"and {augment_size}.")
    self.event_size, self.augment_size = int(event_size), int(augment_size)
    self.learned, self.context_size, self.hidden = bool(learned), context_size, tuple(hidden)
    self.encoder = (ConditionalLocScale(self.augment_size, self.event_size, context_size,
                                        hidden, dtype=self.dtype_policy)
                    if self.learned else None)
    self.built = True

  def _standard_normal(self, x):
    zeros = tf.zeros(tf.concat([tf.shape(x)[:-1], [self.augment_size]], 0), x.dtype)
    return tfd.Independent(tfd.Normal(zeros, 1), reinterpreted_batch_ndims=1)

  def distribution(self, inner, context=None):
    """`AugmentDistribution` on `inner` (event `[D + A]`); a learned encoder also sees `context`."""
    if self.encoder is None:
      return AugmentDistribution(inner, self._standard_normal, self.event_size)
    return AugmentDistribution(
        inner, lambda x: self.encoder.distribution(x, context=context), self.event_size)

  def get_config(self):
    return {**super().get_config(), "event_size": self.event_size,
            "augment_size": self.augment_size, "learned": self.learned,
            "context_size": self.context_size, "hidden": self.hidden}
