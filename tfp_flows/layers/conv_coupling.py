"""Shared part of image coupling steps: a mask on `[H, W, C]` and a `ConvConditioner` driving `MaskedCoupling`."""
import tensorflow as tf

from tfp_flows.bijectors.masked_coupling import MaskedCoupling, channel_mask, checkerboard_mask
from tfp_flows.layers.conv_conditioner import ConvConditioner
from tfp_flows.layers.step import FlowStep

MASKS = {"checkerboard": checkerboard_mask, "channel": channel_mask}


class ConvCoupling(FlowStep):
  """Base class of image coupling steps (RealNVP, Dinh et al. 2017, Sec. 3.4); subclasses map parameters to a bijector.

  A `FlowStep` on `[H, W, C]` events (`event_ndims = 3`, `event_size = C`).
  The entries where the mask is True pass unchanged; the others are moved
  elementwise by `transform(params)`, with
  `params = ConvConditioner(masked x, context)` of shape `[..., H, W, C, P]`.
  Subclasses implement the `FlowStep` hook `make_bijector(context, training)`
  as `self.coupling(context, transform)` (as `Coupling` subclasses do).
  The conditioner's output convolution starts at zero. Alternate `parity`
  (and mask kinds) between steps so every entry is transformed.

  Shapes: x `[..., H, W, C]`; optional context `[..., K]` (a one-hot class label).

  Args:
    image_shape: `(H, W, C)`.
    params_per_dim: P (set by subclasses).
    mask: `"checkerboard"` or `"channel"` (needs C >= 2).
    parity: 0 or 1, which half of the mask passes unchanged.
    filters: hidden channels of the conditioner, >= 1.
    num_blocks: ResNet blocks of the conditioner, >= 0.
    context_size: K, or `None` for an unconditional step.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: if a size is not an integer.
    ValueError: for an unknown mask, a bad parity or image shape, C < 2 with a
      channel mask, `filters < 1` or `num_blocks < 0`; when applied, for
      inputs or contexts of the wrong shape (see `FlowStep`).
  """

  event_ndims = 3

  def __init__(self, image_shape, params_per_dim, mask="checkerboard", parity=0, filters=32,
               num_blocks=1, context_size=None, **kwargs):
    if mask not in MASKS:
      raise ValueError(f"mask must be one of {sorted(MASKS)}, got {mask!r}.")
    image_shape = tuple(check_size("image_shape", s) for s in image_shape)
    built_mask = MASKS[mask](image_shape, parity)  # checks the shape and parity
    super().__init__(image_shape[-1], context_size, **kwargs)
    self.image_shape, self.mask = image_shape, built_mask
    self.params_per_dim = check_size("params_per_dim", params_per_dim)
    filters = check_size("filters", filters)
    num_blocks = check_size("num_blocks", num_blocks, minimum=0)
    self._base_config = dict(image_shape=self.image_shape, mask=mask, parity=parity,
                             filters=filters, num_blocks=num_blocks,
                             context_size=self.context_size)
    self.conditioner = ConvConditioner(
        self.image_shape, self.image_shape[-1] * self.params_per_dim, filters, num_blocks,
        self.context_size, dtype=self.dtype_policy)
    self.built = True

  def coupling(self, context, transform):
    """`MaskedCoupling` (forward: latent -> data) whose elementwise part is `transform(params)`.

    Args:
      context: the checked context (`None` or `[..., K]`).
      transform: callable `params [..., H, W, C, P] -> elementwise bijector`
        on `[..., H, W, C]` (forward: latent -> data).
    """
    def transform_fn(masked):
      params = self.conditioner(masked, context)
      return transform(tf.reshape(params, tf.concat(
          [tf.shape(params)[:-1], [self.image_shape[-1], self.params_per_dim]], 0)))
    return MaskedCoupling(self.mask, transform_fn)

  def get_config(self):
    config = {k: v for k, v in super().get_config().items() if k != "event_size"}
    return {**config, **self._base_config}
