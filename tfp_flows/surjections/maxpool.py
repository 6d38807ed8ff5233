"""Non-overlapping k x k max-pooling surjection of `[H, W, C]` images (SurVAE Sec. 4.1, "Max pooling")."""
import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.surjections.max import MaxDistribution, gap_distribution

tfd, tfb = tfp.distributions, tfp.bijectors


def blocks_to_image(height, width, channels, pool_size):
  """Bijector (unit Jacobian) from pooling blocks `[H/k, W/k, C, k*k]` to the image `[H, W, C]`.

  Block entry `(i, j, c, a*k + b)` is pixel `(i*k + a, j*k + b, c)`.
  """
  h, w, k = height // pool_size, width // pool_size, pool_size
  return tfb.Chain([
      tfb.Reshape([height, width, channels], event_shape_in=[h, k, w, k, channels]),
      tfb.Transpose(perm=[0, 3, 1, 4, 2]),
      tfb.Reshape([h, w, channels, k, k], event_shape_in=[h, w, channels, k * k]),
  ])


@keras.saving.register_keras_serializable(package="tfp_flows")
class MaxPool2D(keras.layers.Layer):
  """Max-pooling surjection: z = the k x k block maxima of x, exact likelihood.

  Data -> latent (the SurVAE paper's "forward"): z `[H/k, W/k, C]` holds the
  maximum of each non-overlapping k x k block of x `[H, W, C]`. Latent ->
  data (`sample`): per block, the argmax position is drawn from a learnable
  categorical over the k*k positions (one per channel), the other k*k - 1
  entries are the block maximum minus half-normal (or exponential) gaps with a
  learnable scale per channel. Likelihood contribution (Nielsen et al. 2020,
  Sec. 4.1; reference `SimpleMaxPoolSurjection2d` with a uniform index):
  `sum_blocks log pi_k + sum_{j != k} log p_gap(z - x_j)`; exact.

  Built as `tfd.TransformedDistribution(MaxDistribution(inner, ...),
  blocks_to_image(...))`: the pixel regrouping is a TFP bijector, the max over
  each block a `MaxDistribution`. Overlapping pooling (stride < k) is not
  implemented.

  Args:
    input_shape: `(H, W, C)` of x; H and W must be divisible by `pool_size`.
    pool_size: k.
    gap: `"half_normal"` or `"exponential"`.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    ValueError: if H or W is not divisible by k, `pool_size < 2`, or `gap` is unknown.
  """

  def __init__(self, input_shape, pool_size=2, gap="half_normal", **kwargs):
    super().__init__(**kwargs)
    height, width, channels = (int(s) for s in input_shape)
    k = int(pool_size)
    if k < 2 or height % k or width % k:
      raise ValueError(f"MaxPool2D: spatial size {height}x{width} of input shape "
                       f"{tuple(input_shape)} must be divisible by pool_size {k} >= 2.")
    gap_distribution(gap, 1.0)
    self.image_shape, self.pool_size, self.gap = (height, width, channels), k, gap
    self.logits = self.add_weight(name="logits", shape=(channels, k * k),
                                  initializer="zeros")
    self.log_scale = self.add_weight(name="log_scale", shape=(channels, 1),
                                     initializer="zeros")
    self.built = True

  def distribution(self, inner, context=None):
    """Distribution over x `[H, W, C]` on `inner` over z `[H/k, W/k, C]`; `context` is ignored.

    Raises:
      ValueError: if `inner`'s event shape is not `[H/k, W/k, C]`.
    """
    height, width, channels = self.image_shape
    k = self.pool_size
    expected = [height // k, width // k, channels]
    if inner.event_shape.as_list() != expected:
      raise ValueError(f"MaxPool2D of {self.image_shape} needs an inner event shape "
                       f"{expected}, got {inner.event_shape}.")
    blocks = MaxDistribution(inner, self.logits, tf.exp(self.log_scale), gap=self.gap)
    return tfd.TransformedDistribution(blocks, blocks_to_image(height, width, channels, k))

  def call(self, x):
    """Data -> latent: returns the block maxima `[..., H/k, W/k, C]`."""
    height, width, channels = self.image_shape
    blocks = blocks_to_image(height, width, channels, self.pool_size).inverse(x)
    return tf.reduce_max(blocks, axis=-1)

  def get_config(self):
    return {**super().get_config(), "input_shape": self.image_shape,
            "pool_size": self.pool_size, "gap": self.gap}
