"""Keras layer of the overlapping max-pooling surjection (approximate likelihood)."""
import keras
import tensorflow as tf

from tfp_flows.checks import check_ints
from tfp_flows.layers.step import check_context
from tfp_flows.surjections.max import gap_distribution
from tfp_flows.surjections.maxpool_overlap import OverlappingMaxPoolDistribution, pooling_windows


@keras.saving.register_keras_serializable(package="tfp_flows")
class MaxPool2DOverlap(keras.layers.Layer):
  """Overlapping k x k max-pooling with stride s < k; owns the log gap scale per channel.

  The reproduction's `MaxPoolingLayerWithOverlap` (MNIST 7x7 -> 3x3 with
  k = 3, s = 2). Its likelihood is approximate, neither exact nor a bound
  (see `OverlappingMaxPoolDistribution`); models containing it report
  "approx." numbers.

  Args:
    input_shape: `(H, W, C)` of x.
    pool_size: k.
    stride: s, 1 <= s < k.
    gap: `"half_normal"` or `"exponential"`.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: for a non-integer shape entry, `pool_size` or `stride`.
    ValueError: for an `input_shape` that is not `(H, W, C)`, windows that do
      not tile the image, or an unknown `gap`.
  """

  context_size = None

  def __init__(self, input_shape, pool_size=3, stride=2, gap="half_normal", **kwargs):
    super().__init__(**kwargs)
    self.image_shape = check_ints("MaxPool2DOverlap", "input_shape", input_shape)
    if len(self.image_shape) != 3:
      raise ValueError(f"MaxPool2DOverlap: input_shape must be (H, W, C), got "
                       f"{tuple(input_shape)}.")
    self.gap = gap
    self.windows, out_hw = pooling_windows(*self.image_shape[:2], pool_size, stride)
    self.pool_size, self.stride = int(pool_size), int(stride)
    self.output_image_shape = (*out_hw, self.image_shape[2])
    gap_distribution(gap, 1.0)
    self.log_scale = self.add_weight(name="log_scale", shape=(self.image_shape[2],),
                                     initializer="zeros")
    self.built = True

  def distribution(self, inner, context=None):
    """`OverlappingMaxPoolDistribution` on `inner` over `[out_h, out_w, C]`.

    Raises:
      ValueError: if a context is given, or `inner`'s event shape is not `[out_h, out_w, C]`.
    """
    check_context(context, None, "MaxPool2DOverlap")
    return OverlappingMaxPoolDistribution(inner, self.image_shape, self.pool_size, self.stride,
                                          tf.exp(self.log_scale), gap=self.gap)

  def call(self, x):
    """Data -> latent: the window maxima `[..., out_h, out_w, C]`."""
    h, w, c = self.image_shape
    flat = tf.reshape(x, tf.concat([tf.shape(x)[:-3], [h * w, c]], 0))
    z = tf.reduce_max(tf.gather(flat, self.windows, axis=-2), axis=-2)
    return tf.reshape(z, tf.concat([tf.shape(x)[:-3], self.output_image_shape], 0))

  def get_config(self):
    return {**super().get_config(), "input_shape": self.image_shape,
            "pool_size": self.pool_size, "stride": self.stride, "gap": self.gap}
