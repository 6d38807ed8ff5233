"""Rational-quadratic spline coupling step (Durkan et al. 2019) as a Keras 3 layer."""
import keras
import tensorflow_probability as tfp

from tfp_flows.layers.coupling import Coupling
from tfp_flows.layers.spline_autoregressive import (rational_quadratic_spline,
                                                    spline_params_size)

tfb = tfp.bijectors


@keras.saving.register_keras_serializable(package="tfp_flows")
class SplineCoupling(Coupling):
  """Coupling step whose transform is a monotone rational-quadratic spline (Durkan et al. 2019, Sec. 3.2).

  The conditioner (see `Coupling`) emits `3K - 1` raw parameters per
  transformed dimension, mapped by `rational_quadratic_spline` as in the
  reference NSF code; identity outside [-B, B]. As in `SplineAutoregressive`
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
    TypeError: if `num_bins` is not an integer.
    ValueError: if `num_bins < 1` or `bound` is not a positive finite
      number; see also `Coupling`.
  """

  def __init__(self, event_size, num_bins=8, bound=3.0, num_masked=None, hidden=(64, 64),
               activation="relu", context_size=None, validate_args=False, **kwargs):
    num_bins = check_size("num_bins", num_bins)
    super().__init__(event_size, spline_params_size(num_bins), num_masked=num_masked,
                     hidden=hidden, activation=activation, context_size=context_size,
                     validate_args=validate_args, **kwargs)
    self.num_bins, self.bound = num_bins, check_positive("bound", bound)

  def make_bijector(self, context, training):
    hidden = self.conditioner.hidden[-1]
    return self.coupling(context, lambda p: tfb.Invert(
        rational_quadratic_spline(p, self.num_bins, self.bound, hidden)))

  def get_config(self):
    return {**super().get_config(), "num_bins": self.num_bins, "bound": self.bound}
