"""Rational-quadratic spline coupling step (Durkan et al. 2019) as a Keras 3 layer."""
import keras

from tfp_flows.layers.coupling import Coupling
from tfp_flows.layers.spline_autoregressive import SplineTransform


@keras.saving.register_keras_serializable(package="tfp_flows")
class SplineCoupling(Coupling):
  """Coupling step whose transform is a monotone rational-quadratic spline (Durkan et al. 2019, Sec. 3.2).

  The conditioner (see `Coupling`) emits `3K - 1` raw parameters per
  transformed dimension, mapped by `rational_quadratic_spline` as in the
  reference NSF code (`SplineTransform`, shared with `ConvSplineCoupling`); identity outside [-B, B]. As in `SplineAutoregressive`
  (and nflows' "forward", data -> noise), the density direction applies the
  spline itself and sampling its analytic inverse. With zero parameters the
  spline has equal bins and unit boundary slopes; the conditioner starts at
  zero, so the step starts near (not exactly at) the identity.

  Shapes: `[..., D]`; optional context `[..., C]`.

  Args:
    event_size: D >= 2.
    num_bins: K.
    bound: B.
    num_masked: m (default D // 2).
    hidden: conditioner hidden widths.
    activation: conditioner activation.
    context_size: C, or `None`.
    validate_args: passed to TFP.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: if `num_bins` is not an integer or `bound` not a real number;
      see also `Coupling`.
    ValueError: if `num_bins < 1` or `bound` is not a positive finite
      number; see also `Coupling`.
  """

  def __init__(self, event_size, num_bins=8, bound=3.0, num_masked=None, hidden=(64, 64),
               activation="relu", context_size=None, validate_args=False, **kwargs):
    super().__init__(event_size, SplineTransform(type(self).__name__, num_bins, bound),
                     num_masked=num_masked, hidden=hidden, activation=activation,
                     context_size=context_size, validate_args=validate_args, **kwargs)
