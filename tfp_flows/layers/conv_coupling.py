"""Shared part of image coupling steps: a mask on `[H, W, C]` and a `ConvConditioner` driving `MaskedCoupling`."""
import keras
import tensorflow as tf

from tfp_flows.bijectors.masked_coupling import MaskedCoupling, channel_mask, checkerboard_mask
from tfp_flows.layers.conv_conditioner import ConvConditioner

MASKS = {"checkerboard": checkerboard_mask, "channel": channel_mask}


class ConvCoupling(keras.layers.Layer):
  """Base class of image coupling steps (RealNVP, Dinh et al. 2017, Sec. 3.4); subclasses map parameters to a bijector.

  The entries where the mask is True pass unchanged; the others are moved
  elementwise by `self.transform(params)`, with
  `params = ConvConditioner(masked x, context)` of shape `[..., H, W, C, P]`.
  The conditioner's output convolution starts at zero. Alternate `parity`
  (and mask kinds) between steps so every entry is transformed.

  Shapes: x `[..., H, W, C]`; optional context `[..., K]` (a one-hot class label).

  Args:
    image_shape: `(H, W, C)`.
    params_per_dim: P (set by subclasses).
    mask: `"checkerboard"` or `"channel"` (needs C >= 2).
    parity: 0 or 1, which half of the mask passes unchanged.
    filters: hidden channels of the conditioner.
    num_blocks: ResNet blocks of the conditioner.
    context_size: K, or `None` for an unconditional step.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    ValueError: for an unknown mask, a bad parity or image shape, C < 2 with a
      channel mask; when applied, for inputs or contexts of the wrong shape.
  """

  def __init__(self, image_shape, params_per_dim, mask="checkerboard", parity=0, filters=32,
               num_blocks=1, context_size=None, **kwargs):
    super().__init__(**kwargs)
    if mask not in MASKS:
      raise ValueError(f"mask must be one of {sorted(MASKS)}, got {mask!r}.")
    self.image_shape = tuple(int(s) for s in image_shape)
    self.mask = MASKS[mask](self.image_shape, parity)
    self.params_per_dim = int(params_per_dim)
    self.context_size = None if context_size is None else int(context_size)
    self._base_config = dict(image_shape=self.image_shape, mask=mask, parity=parity,
                             filters=filters, num_blocks=num_blocks,
                             context_size=self.context_size)
    self.conditioner = ConvConditioner(
        self.image_shape, self.image_shape[-1] * self.params_per_dim, filters, num_blocks,
        self.context_size, dtype=self.dtype_policy)
    self.built = True

  def transform(self, params):
    """Elementwise bijector on `[..., H, W, C]` from `params [..., H, W, C, P]`."""
    raise NotImplementedError

  def bijector(self, context=None, training=None):
    """The step as a `MaskedCoupling` (forward: latent -> data); `training` is ignored."""
    def transform_fn(masked):
      params = self.conditioner(masked, context)
      return self.transform(tf.reshape(params, tf.concat(
          [tf.shape(params)[:-1], [self.image_shape[-1], self.params_per_dim]], 0)))
    return MaskedCoupling(self.mask, transform_fn)

  def call(self, x, context=None):
    """Maps data to latent (the density direction); returns `z` `[..., H, W, C]`."""
    return self.bijector(context).inverse(x)

  def get_config(self):
    return {**super().get_config(), **self._base_config}
