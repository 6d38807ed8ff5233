"""Keras layer of the max surjection (SurVAE Sec. 4.1); the math is `tfp_flows.surjections.MaxDistribution`."""
import keras
import tensorflow as tf

from tfp_flows.checks import check_int
from tfp_flows.layers.step import check_context
from tfp_flows.surjections.max import MaxDistribution, gap_distribution


@keras.saving.register_keras_serializable(package="tfp_flows")
class Max(keras.layers.Layer):
  """Keras layer owning the index logits and log gap scales of a `MaxDistribution`.

  Takes no context (`context_size` is None): `distribution` rejects one.

  Args:
    event_size: D, the size of the reduced last axis.
    gap: `"half_normal"` or `"exponential"`.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: for a non-integer `event_size`.
    ValueError: for `event_size < 2` or an unknown `gap`.
  """

  context_size = None

  def __init__(self, event_size, gap="half_normal", **kwargs):
    super().__init__(**kwargs)
    self.event_size = check_int("Max", "event_size", event_size, minimum=2)
    gap_distribution(gap, 1.0)
    self.gap = gap
    self.logits = self.add_weight(name="logits", shape=(self.event_size,),
                                  initializer="zeros")
    self.log_scale = self.add_weight(name="log_scale", shape=(self.event_size,),
                                     initializer="zeros")
    self.built = True

  def distribution(self, inner, context=None):
    """`MaxDistribution` on `inner` (event `[]` for x `[D]`).

    Raises:
      ValueError: if a context is given.
    """
    check_context(context, None, "Max")
    return MaxDistribution(inner, self.logits, tf.exp(self.log_scale), gap=self.gap)

  def call(self, x):
    """Data -> latent: returns `max(x)` over the last axis."""
    return tf.reduce_max(x, axis=-1)

  def get_config(self):
    return {**super().get_config(), "event_size": self.event_size, "gap": self.gap}
