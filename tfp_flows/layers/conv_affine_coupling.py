"""Affine coupling on `[H, W, C]` images with a convolutional conditioner (RealNVP, Glow) as a Keras 3 layer."""
import keras

from tfp_flows.layers.affine_coupling import AffineTransform
from tfp_flows.layers.conv_coupling import ConvCoupling


@keras.saving.register_keras_serializable(package="tfp_flows")
class ConvAffineCoupling(ConvCoupling):
  """Masked affine coupling `x = m z + (1 - m)(mu + exp(s) z)`, `(mu, s) = ResNet(m z, c)` (Dinh et al. 2017, eq. 9).

  `AffineCoupling` on images: the same `AffineTransform` (log-scale
  soft-clamped to (-`log_scale_bound`, `log_scale_bound`)) driven by a mask
  and a convolutional conditioner that starts at zero, so the step starts as
  the identity. See `ConvCoupling` for masks, shapes and context.

  Args:
    image_shape: `(H, W, C)`.
    mask: `"checkerboard"` or `"channel"`.
    parity: 0 or 1.
    filters: conditioner channels.
    num_blocks: conditioner ResNet blocks.
    log_scale_bound: bound of the soft clamp on log-scales.
    context_size: K, or `None`.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: if `log_scale_bound` is not a real number; see also `ConvCoupling`.
    ValueError: if `log_scale_bound` is not a positive finite number; see
      also `ConvCoupling`.
  """

  def __init__(self, image_shape, mask="checkerboard", parity=0, filters=32, num_blocks=1,
               log_scale_bound=3.0, context_size=None, **kwargs):
    super().__init__(image_shape, AffineTransform(type(self).__name__, log_scale_bound),
                     mask=mask, parity=parity, filters=filters, num_blocks=num_blocks,
                     context_size=context_size, **kwargs)
