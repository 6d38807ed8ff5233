"""Masked affine autoregressive step: MAF (Papamakarios et al. 2017) or IAF (Kingma et al. 2016)."""

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.checks import check_choice, check_positive
from tfp_flows.bijectors.masked_autoregressive import MaskedAutoregressive
from tfp_flows.layers.affine_coupling import affine
from tfp_flows.layers.made import MADE
from tfp_flows.layers.step import FlowStep

tfb = tfp.bijectors

SCALES = ("exp", "sigmoid", "one")


@keras.saving.register_keras_serializable(package="tfp_flows")
class MaskedAffine(FlowStep):
  """Affine autoregressive step (MAF or IAF) with an exponential, gated or unit scale.

  One map serves both flows. With `(m, s) = MADE(v, c)` autoregressive in v,
  the *one-pass* direction sends v to `u` elementwise, by `scale`:

  * `"exp"` (default): `u = (v - m) exp(-s)`, log|du/dv| = -sum s
    (Papamakarios et al. 2017, eq. 3-5; Kingma et al. 2016, Sec. 3); s is
    soft-clamped to (-`log_scale_bound`, `log_scale_bound`).
  * `"sigmoid"`: `sigma = sigmoid(s + gate_bias)`,
    `u = sigma * v + (1 - sigma) * m`, log|du/dv| = sum log sigma: the
    numerically stable, LSTM-like IAF update of Kingma et al. 2016 (Sec. 4,
    eq. 11-14, Algorithm 1). `1 - sigma` is computed as `sigmoid(-(s + b))` and
    `log sigma` as `log_sigmoid`, so neither underflows.
  * `"one"`: the constant-sigma variant, `u = v + m`, log-det 0 (volume
    preserving; the MADE emits m only). With the gated form sigma = 1 would
    be the identity, so the constant variant is this shift-only update.

  MAF (`inverse=False`, Papamakarios et al. 2017): the one-pass direction
  is the density direction `bijector().inverse` (data x = v -> latent z =
  u), its log-det shared with the same MADE pass
  (`tfp_flows.bijectors.MaskedAutoregressive`); sampling (`forward`) costs
  D passes. IAF (`inverse=True`, Kingma et al. 2016, Sec. 4): `tfb.Invert`
  of the same map, so the one-pass direction is `bijector().forward`
  (latent -> data, e.g. eps-space -> posterior sample), and
  `tfd.TransformedDistribution(base, chain).experimental_sample_and_log_prob()`
  costs one MADE pass per step and never inverts; `forward_log_det_jacobian`
  is the log|du/dv| above. The density direction of an IAF costs D passes.

  The MADE's output layer (and its context projection into the outputs)
  starts at zero (m = 0, s = 0), so the step starts as the identity for
  `"exp"` and `"one"`, and as `u = sigmoid(gate_bias) v` for `"sigmoid"`
  (~0.82 v for the default 1.5: "s initialised near +1.5", so each step
  starts by changing z a little).

  Shapes: `[..., D]`; optional context `[..., C]`, fed to every MADE layer.

  Args:
    event_size: D.
    inverse: `False` for MAF, `True` for IAF.
    hidden_units, num_blocks, residual, activation, dropout: of the MADE.
      `residual=False, num_blocks=1` (the defaults) is a MADE with 2 hidden
      layers of `hidden_units` (the first masked layer, then `num_blocks`
      more); `num_blocks=2` gives 3.
    log_scale_bound: bound of the soft clamp on log-scales (`"exp"` only).
    context_size: C, or `None`.
    validate_args: passed to TFP.
    scale: `"exp"`, `"sigmoid"` or `"one"`, see above.
    gate_bias: b added to s inside the sigmoid (`"sigmoid"` only).
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: if `event_size` or `context_size` is not an integer.
    ValueError: for an unknown `scale`, `event_size < 1` or a
      `log_scale_bound` that is not positive and finite; for a missing,
      unexpected or wrongly sized context when the bijector is built, or an
      input whose last dimension is not D when it is applied.
  """

  def __init__(
    self,
    event_size,
    inverse=False,
    hidden_units=64,
    num_blocks=1,
    residual=False,
    activation="relu",
    dropout=0.0,
    log_scale_bound=3.0,
    context_size=None,
    validate_args=False,
    scale="exp",
    gate_bias=1.5,
    **kwargs,
  ):
    super().__init__(event_size, context_size, **kwargs)
    check_choice(type(self).__name__, "scale", scale, SCALES)
    self.inverse = bool(inverse)
    self.log_scale_bound = check_positive(type(self).__name__, "log_scale_bound", log_scale_bound)
    self.validate_args = bool(validate_args)
    self.scale, self.gate_bias = scale, float(gate_bias)
    self._config = {
      "event_size": self.event_size,
      "inverse": self.inverse,
      "hidden_units": hidden_units,
      "num_blocks": num_blocks,
      "residual": residual,
      "activation": activation,
      "dropout": dropout,
      "log_scale_bound": self.log_scale_bound,
      "context_size": self.context_size,
      "validate_args": self.validate_args,
      "scale": self.scale,
      "gate_bias": self.gate_bias,
    }
    self.made = MADE(
      self.event_size,
      1 if scale == "one" else 2,
      hidden_units=hidden_units,
      num_blocks=num_blocks,
      residual=residual,
      activation=activation,
      dropout=dropout,
      dtype=self.dtype_policy,
    )
    self.made.build(
      (None, self.event_size), None if self.context_size is None else (None, self.context_size)
    )
    for last in [self.made.last] + (self.made.context_proj or [])[-1:]:  # all output weights
      last.kernel.assign(tf.zeros_like(last.kernel))
      last.bias.assign(tf.zeros_like(last.bias))
    self.built = True

  def _elementwise(self, params):
    """The elementwise bijector of MADE outputs `params` `[..., D, P]`; its `inverse` is v -> u."""
    m = params[..., 0]
    if self.scale == "exp":
      return affine(m, params[..., 1], self.log_scale_bound)
    if self.scale == "one":
      return tfb.Invert(tfb.Shift(m))
    a = params[..., 1] + self.gate_bias
    return tfb.Invert(
      tfb.Chain([tfb.Shift(tf.math.sigmoid(-a) * m), tfb.Scale(log_scale=tf.math.log_sigmoid(a))])
    )

  def make_bijector(self, context, training):
    maf = MaskedAutoregressive(
      params_fn=lambda x: self.made(x, context=context, training=training),
      bijector_fn=self._elementwise,
      event_size=self.event_size,
      validate_args=self.validate_args,
    )
    return tfb.Invert(maf) if self.inverse else maf

  def get_config(self):
    return {**super().get_config(), **self._config}
