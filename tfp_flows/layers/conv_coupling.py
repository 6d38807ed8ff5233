"""Shared part of image coupling steps: a mask on `[H, W, C]` and a `ConvConditioner` driving `MaskedCoupling`."""
import tensorflow as tf

from tfp_flows.bijectors.masked_coupling import MaskedCoupling, channel_mask, checkerboard_mask
from tfp_flows.checks import check_choice, check_int, check_ints
from tfp_flows.layers.conv_conditioner import ConvConditioner
from tfp_flows.layers.step import FlowStep

MASKS = {"checkerboard": checkerboard_mask, "channel": channel_mask}


class ConvCoupling(FlowStep):
  """Base class of image coupling steps (RealNVP, Dinh et al. 2017, Sec. 3.4): mask, ResNet, transform.

  A `FlowStep` on `[H, W, C]` events (`event_ndims = 3`, `event_size = C`).
  The entries where the mask is True pass unchanged; the others are moved
  by `transform(params, filters)`, with
  `params = ConvConditioner(masked x, context)` of shape `[..., H, W, C, P]`.
  The `FlowStep` hook `make_bijector` returns a `MaskedCoupling`. It is
  `Coupling` with a mask for the split and a convolutional conditioner for
  the MLP; subclasses (`ConvAffineCoupling`, `ConvSplineCoupling`) choose the
  transform as their dense counterparts do. The conditioner's output
  convolution starts at zero. Alternate `parity` (and mask kinds) between
  steps so every entry is transformed.

  Shapes: x `[..., H, W, C]`; optional context `[..., K]` (a one-hot class label).

  Args:
    image_shape: `(H, W, C)`.
    transform: the `ElementwiseTransform` (set by subclasses).
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

  def __init__(self, image_shape, transform, mask="checkerboard", parity=0, filters=32,
               num_blocks=1, context_size=None, **kwargs):
    owner = type(self).__name__
    check_choice(owner, "mask", mask, tuple(sorted(MASKS)))
    image_shape = check_ints(owner, "image_shape", image_shape)
    built_mask = MASKS[mask](image_shape, parity)  # checks the shape and parity
    super().__init__(image_shape[-1], context_size, **kwargs)
    self.image_shape, self.mask, self.elementwise = image_shape, built_mask, transform
    filters = check_int(owner, "filters", filters)
    num_blocks = check_int(owner, "num_blocks", num_blocks, minimum=0)
    self._base_config = dict(image_shape=self.image_shape, mask=mask, parity=parity,
                             filters=filters, num_blocks=num_blocks,
                             context_size=self.context_size, **transform.get_config())
    self.conditioner = ConvConditioner(
        self.image_shape, self.image_shape[-1] * transform.params_per_dim, filters, num_blocks,
        self.context_size, dtype=self.dtype_policy)
    self.built = True

  def make_bijector(self, context, training):
    """`MaskedCoupling` (forward: latent -> data) moving the unmasked entries by the transform."""
    def transform_fn(masked):
      params = self.conditioner(masked, context)
      params = tf.reshape(params, tf.concat(
          [tf.shape(params)[:-1], [self.image_shape[-1], self.elementwise.params_per_dim]], 0))
      return self.elementwise(params, self.conditioner.filters)
    return MaskedCoupling(self.mask, transform_fn)

  def get_config(self):
    config = {k: v for k, v in super().get_config().items() if k != "event_size"}
    return {**config, **self._base_config}
