"""Keras layer of k x k max-pooling (SurVAE Sec. 4.1); the math is `tfp_flows.surjections.max_pool_distribution`."""
import keras
import tensorflow as tf

from tfp_flows.layers.step import check_context
from tfp_flows.surjections.max import gap_distribution
from tfp_flows.surjections.maxpool import blocks_to_image, check_pooling, max_pool_distribution


@keras.saving.register_keras_serializable(package="tfp_flows")
class MaxPool2D(keras.layers.Layer):
  """Max-pooling surjection: z = the k x k block maxima of x `[H, W, C]`, exact likelihood.

  Owns a learnable categorical over the k*k argmax positions (one per
  channel) and a learnable gap scale per channel; the density is
  `tfp_flows.surjections.max_pool_distribution`. Takes no context.

  Args:
    input_shape: `(H, W, C)` of x; H and W must be divisible by `pool_size`.
    pool_size: k.
    gap: `"half_normal"` or `"exponential"`.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: for a non-integer shape entry or `pool_size`.
    ValueError: if H or W is not divisible by k, `pool_size < 2`, or `gap` is unknown.
  """

  context_size = None

  def __init__(self, input_shape, pool_size=2, gap="half_normal", **kwargs):
    super().__init__(**kwargs)
    self.image_shape, self.pool_size = check_pooling(input_shape, pool_size)
    gap_distribution(gap, 1.0)
    self.gap = gap
    channels, k = self.image_shape[2], self.pool_size
    self.logits = self.add_weight(name="logits", shape=(channels, k * k),
                                  initializer="zeros")
    self.log_scale = self.add_weight(name="log_scale", shape=(channels, 1),
                                     initializer="zeros")
    self.built = True

  def distribution(self, inner, context=None):
    """Distribution over x `[H, W, C]` on `inner` over z `[H/k, W/k, C]`.

    Raises:
      ValueError: if a context is given, or `inner`'s event shape is not `[H/k, W/k, C]`.
    """
    check_context(context, None, "MaxPool2D")
    return max_pool_distribution(inner, self.logits, tf.exp(self.log_scale), self.image_shape,
                                 self.pool_size, self.gap)

  def call(self, x):
    """Data -> latent: returns the block maxima `[..., H/k, W/k, C]`."""
    blocks = blocks_to_image(*self.image_shape, self.pool_size).inverse(x)
    return tf.reduce_max(blocks, axis=-1)

  def get_config(self):
    return {**super().get_config(), "input_shape": self.image_shape,
            "pool_size": self.pool_size, "gap": self.gap}
