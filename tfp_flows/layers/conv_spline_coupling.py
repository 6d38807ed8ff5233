"""Rational-quadratic spline coupling on `[H, W, C]` images with a convolutional conditioner (Durkan et al. 2019)."""
import keras

from tfp_flows.layers.conv_coupling import ConvCoupling
from tfp_flows.layers.spline_autoregressive import SplineTransform


@keras.saving.register_keras_serializable(package="tfp_flows")
class ConvSplineCoupling(ConvCoupling):
  """Masked coupling whose transform is a monotone rational-quadratic spline on [-B, B], identity outside.

  The `SplineTransform` of `SplineCoupling` (`rational_quadratic_spline`, 3K - 1
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
    TypeError: if `num_bins` is not an integer or `bound` not a real number;
      see also `ConvCoupling`.
    ValueError: if `num_bins < 1` or `bound` is not a positive finite
      number; see also `ConvCoupling`.
  """

  def __init__(self, image_shape, num_bins=8, bound=3.0, mask="checkerboard", parity=0,
               filters=32, num_blocks=1, context_size=None, **kwargs):
    super().__init__(image_shape, SplineTransform(type(self).__name__, num_bins, bound),
                     mask=mask, parity=parity, filters=filters, num_blocks=num_blocks,
                     context_size=context_size, **kwargs)
