"""Multiscale factor-out of `[H, W, C]` images (RealNVP/Glow) as a SurVAE slice with a convolutional decoder."""
import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.checks import check_int, check_ints
from tfp_flows.layers.affine_coupling import soft_clamp
from tfp_flows.layers.conv_conditioner import ConvConditioner
from tfp_flows.surjections.slice import SliceDistribution

tfd = tfp.distributions


@keras.saving.register_keras_serializable(package="tfp_flows")
class ChannelSlice(keras.layers.Layer):
  """Keeps the first `keep` channels of x `[H, W, C]`; the rest ~ N(mu, sigma) given the kept ones.

  Data -> latent: z = x[..., :keep], deterministic; the dropped channels are
  scored by a Gaussian whose location and log-scale (soft-clamped to
  (-3, 3)) are a `ConvConditioner` of z (and the context): Glow's learned
  prior of factored-out latents (Kingma & Dhariwal 2018, Sec. 3; Dinh et
  al. 2017, Sec. 3.6), an exact `SliceDistribution` (Nielsen et al. 2020,
  Sec. 4.1). The decoder starts at N(0, 1).

  Args:
    input_shape: `(H, W, C)` of x.
    keep: channels kept, 0 < keep < C.
    filters: conditioner channels.
    num_blocks: conditioner ResNet blocks.
    context_size: K of a context (one-hot label), or `None`.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: for a non-integer shape entry, `keep`, `filters`, `num_blocks`
      or `context_size`.
    ValueError: for an `input_shape` that is not `(H, W, C)`, unless
      0 < keep < C; for `filters` or `context_size` < 1 or `num_blocks` < 0.
  """

  def __init__(self, input_shape, keep, filters=32, num_blocks=1, context_size=None, **kwargs):
    super().__init__(**kwargs)
    self.image_shape = check_ints("ChannelSlice", "input_shape", input_shape)
    if len(self.image_shape) != 3:
      raise ValueError(f"ChannelSlice: input_shape must be (H, W, C), got {tuple(input_shape)}.")
    self.keep = check_int("ChannelSlice", "keep", keep)
    height, width, channels = self.image_shape
    if not self.keep < channels:
      raise ValueError(f"ChannelSlice: keep = {keep} must satisfy 0 < keep < C = {channels}.")
    filters = check_int("ChannelSlice", "filters", filters)
    num_blocks = check_int("ChannelSlice", "num_blocks", num_blocks, minimum=0)
    self.output_image_shape = (height, width, self.keep)
    self.context_size = context_size = check_int("ChannelSlice", "context_size", context_size,
                                                 optional=True)
    self._config = dict(input_shape=self.image_shape, keep=self.keep, filters=filters,
                        num_blocks=num_blocks, context_size=context_size)
    self.decoder = ConvConditioner(self.output_image_shape, 2 * (channels - self.keep), filters,
                                   num_blocks, context_size, dtype=self.dtype_policy)
    self.built = True

  def decode(self, z, context=None, temperature=1.0):
    """p(x[..., keep:] | z, context) with its scale multiplied by `temperature`; event `[H, W, C - keep]`."""
    params = self.decoder(z, context)
    drop = self.image_shape[-1] - self.keep
    scale = tf.exp(soft_clamp(params[..., drop:], 3.0)) * temperature
    return tfd.Independent(tfd.Normal(params[..., :drop], scale), 3)

  def distribution(self, inner, context=None, temperature=1.0):
    """`SliceDistribution` on `inner` over `[H, W, keep]`."""
    return SliceDistribution(inner, lambda z: self.decode(z, context, temperature),
                             self.image_shape)

  def call(self, x):
    """Data -> latent: `x[..., :keep]`."""
    return x[..., :self.keep]

  def get_config(self):
    return {**super().get_config(), **self._config}
