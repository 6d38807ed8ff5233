"""Affine coupling on `[H, W, C]` images with a convolutional conditioner (RealNVP, Glow) as a Keras 3 layer."""
import keras

from tfp_flows.layers.affine_coupling import affine
from tfp_flows.layers.conv_coupling import ConvCoupling


@keras.saving.register_keras_serializable(package="tfp_flows")
class ConvAffineCoupling(ConvCoupling):
  """Masked affine coupling `x = m z + (1 - m)(mu + exp(s) z)`, `(mu, s) = ResNet(m z, c)` (Dinh et al. 2017, eq. 9).

  The log-scale is soft-clamped to (-`log_scale_bound`, `log_scale_bound`)
  (`affine_coupling.affine`); the conditioner starts at zero, so the step
  starts as the identity. See `ConvCoupling` for masks, shapes and context.

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
    ValueError: if `log_scale_bound` is not a positive finite number; see
      also `ConvCoupling`.
  """

  def __init__(self, image_shape, mask="checkerboard", parity=0, filters=32, num_blocks=1,
               log_scale_bound=3.0, context_size=None, **kwargs):
    super().__init__(image_shape, 2, mask=mask, parity=parity, filters=filters,
                     num_blocks=num_blocks, context_size=context_size, **kwargs)
    self.log_scale_bound = check_positive("log_scale_bound", log_scale_bound)

  def make_bijector(self, context, training):
    return self.coupling(
        context, lambda p: affine(p[..., 0], p[..., 1], self.log_scale_bound))

  def get_config(self):
    return {**super().get_config(), "log_scale_bound": self.log_scale_bound}
