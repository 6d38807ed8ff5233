"""Rational-quadratic spline coupling on `[H, W, C]` images with a convolutional conditioner (Durkan et al. 2019)."""
import keras
import tensorflow_probability as tfp

from tfp_flows.layers.conv_coupling import ConvCoupling
from tfp_flows.layers.spline_autoregressive import rational_quadratic_spline, spline_params_size

tfb = tfp.bijectors


@keras.saving.register_keras_serializable(package="tfp_flows")
class ConvSplineCoupling(ConvCoupling):
  """Masked coupling whose transform is a monotone rational-quadratic spline on [-B, B], identity outside.

  Parameters as in `SplineCoupling` (`rational_quadratic_spline`, 3K - 1
  per entry, raw widths and heights divided by sqrt(filters)); as there, the
  density direction applies the spline and sampling its analytic inverse.
  See `ConvCoupling` for masks, shapes and context.

  Args:
    image_shape: `(H, W, C)`.
    num_bins: K.
    bound: B.
    mask: `"checkerboard"` or `"channel"`.
    parity: 0 or 1.
    filters: conditioner channels.
    num_blocks: conditioner ResNet blocks.
    context_size: K classes, or `None`.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: if `num_bins` is not an integer.
    ValueError: if `num_bins < 1` or `bound` is not a positive finite number;
      see also `ConvCoupling`.
  """

  def __init__(self, image_shape, num_bins=8, bound=3.0, mask="checkerboard", parity=0,
               filters=32, num_blocks=1, context_size=None, **kwargs):
    num_bins = check_size("num_bins", num_bins)
    super().__init__(image_shape, spline_params_size(num_bins), mask=mask, parity=parity,
                     filters=filters, num_blocks=num_blocks, context_size=context_size,
                     **kwargs)
    self.num_bins, self.bound = num_bins, check_positive("bound", bound)

  def make_bijector(self, context, training):
    return self.coupling(context, lambda p: tfb.Invert(
        rational_quadratic_spline(p, self.num_bins, self.bound, self.conditioner.filters)))

  def get_config(self):
    return {**super().get_config(), "num_bins": self.num_bins, "bound": self.bound}
