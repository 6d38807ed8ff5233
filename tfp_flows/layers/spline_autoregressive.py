"""Rational-quadratic spline autoregressive flow step (Durkan et al. 2019) as a Keras 3 layer."""
import math

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.checks import check_int, check_positive
from tfp_flows.layers.coupling import ElementwiseTransform
from tfp_flows.bijectors.masked_autoregressive import MaskedAutoregressive
from tfp_flows.bijectors.rational_quadratic_spline import RationalQuadraticSpline
from tfp_flows.layers.made import MADE
from tfp_flows.layers.step import FlowStep

tfb = tfp.bijectors

MIN_BIN_WIDTH = MIN_BIN_HEIGHT = MIN_DERIVATIVE = 1e-3


def spline_params_size(num_bins):
  """Raw parameters per dimension of a linear-tailed spline: K widths, K heights, K-1 slopes."""
  return 3 * num_bins - 1


def rational_quadratic_spline(params, num_bins, bound, hidden_units=None):
  """Maps raw network outputs to a rational-quadratic spline on [-B, B] with identity tails.

  As in the reference NSF code (nflows, Durkan et al. 2019, Sec. 3.1):
  widths and heights are `min + (1 - K min) softmax(raw)` scaled to 2B, with
  raw widths and heights divided by sqrt(hidden_units) when given; interior
  knot slopes are `min_derivative + softplus(raw)`; the boundary slopes are
  1, so the spline joins the identity tails smoothly.

  Args:
    params: `[..., D, 3K-1]` raw parameters.
    num_bins: K.
    bound: B, the half-width of the spline's interval.
    hidden_units: optional width of the producing network's last hidden layer.

  Returns:
    A `tfp_flows.bijectors.RationalQuadraticSpline` (the same function as
    `tfb.RationalQuadraticSpline`, with a smaller graph) with batch shape `[..., D]`.
  """
  scale = 1.0 if hidden_units is None else math.sqrt(hidden_units)
  raw_w = params[..., :num_bins] / scale
  raw_h = params[..., num_bins:2 * num_bins] / scale
  raw_d = params[..., 2 * num_bins:]

  def bins(raw, minimum):
    return 2 * bound * (minimum + (1 - minimum * num_bins) * tf.nn.softmax(raw, axis=-1))

  return RationalQuadraticSpline(
      bin_widths=bins(raw_w, MIN_BIN_WIDTH), bin_heights=bins(raw_h, MIN_BIN_HEIGHT),
      knot_slopes=MIN_DERIVATIVE + tf.math.softplus(raw_d), range_min=-bound)


class SplineTransform(ElementwiseTransform):
  """The spline transform of `SplineAutoregressive`, `SplineCoupling` and `ConvSplineCoupling`.

  `3K - 1` raw parameters per entry mapped by `rational_quadratic_spline`
  (raw widths and heights divided by sqrt(width) of the conditioner's last
  hidden layer), inverted: as nflows' "forward" (data -> noise), the density
  direction applies the spline itself and sampling its analytic inverse.
  Identity outside [-B, B].

  Args:
    owner: the step's class name, for messages.
    num_bins: K >= 1.
    bound: B > 0.

  Raises:
    TypeError: if `num_bins` is not an integer or `bound` not a real number.
    ValueError: if `num_bins < 1` or `bound` is not positive and finite.
  """

  def __init__(self, owner, num_bins, bound):
    self.num_bins = check_int(owner, "num_bins", num_bins)
    self.bound = check_positive(owner, "bound", bound)
    self.params_per_dim = spline_params_size(self.num_bins)

  def __call__(self, params, width):
    return tfb.Invert(rational_quadratic_spline(params, self.num_bins, self.bound, width))

  def get_config(self):
    return {"num_bins": self.num_bins, "bound": self.bound}


@keras.saving.register_keras_serializable(package="tfp_flows")
class SplineAutoregressive(FlowStep):
  """Trainable masked autoregressive rational-quadratic spline step.

  The density direction (`bijector().inverse`, data -> latent) applies the
  spline with parameters `MADE(x)` in one pass, as nflows'
  `MaskedPiecewiseRationalQuadraticAutoregressiveTransform` does in its
  "forward" (data -> noise) direction; `bijector().forward` samples with D
  passes. Identity outside [-B, B].

  Shapes: inputs `[..., D]` (`[..., K, D]` with `num_models=K`); optional
  context `[..., C]` (needs `context_size=C`).

  Args:
    event_size: D.
    num_bins: number of spline bins K.
    bound: B.
    hidden_units, num_blocks, residual, activation, dropout: of the MADE.
    context_size: optional width C of a context every MADE unit sees.
    num_models: optional number of stacked independent models.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: if `event_size`, `num_bins`, `context_size` or `num_models`
      is not an integer.
    ValueError: if `num_bins < 1`, `bound` is not a positive finite number,
      or a size is below 1; for a missing, unexpected or wrongly sized
      context when the bijector is built.
  """

  def __init__(self, event_size, num_bins=8, bound=3.0, hidden_units=256,
               num_blocks=2, residual=True, activation="relu", dropout=0.0,
               context_size=None, num_models=None, **kwargs):
    super().__init__(event_size, context_size, **kwargs)
    self.spline = SplineTransform(type(self).__name__, num_bins, bound)
    num_models = check_int(type(self).__name__, "num_models", num_models, optional=True)
    self.made = MADE(self.event_size, self.spline.params_per_dim,
                     hidden_units=hidden_units, num_blocks=num_blocks, residual=residual,
                     activation=activation, dropout=dropout, num_models=num_models,
                     dtype=self.dtype_policy)
    self._config = dict(**self.spline.get_config(), hidden_units=hidden_units,
                        num_blocks=num_blocks, residual=residual, activation=activation,
                        dropout=dropout, num_models=num_models)
    stack = (None,) + (() if num_models is None else (num_models,))
    self.made.build(stack + (self.event_size,),
                    None if self.context_size is None else stack + (self.context_size,))
    self.built = True

  def make_bijector(self, context, training):
    """The step (forward: latent -> data); `training=None` follows the Keras call context."""
    made = self.made
    return MaskedAutoregressive(
        params_fn=lambda x: made(x, context=context, training=training),
        bijector_fn=lambda p: self.spline(p, made.hidden_units), event_size=made.event_size)

  def get_config(self):
    return {**super().get_config(), **self._config}
