"""NICE additive coupling step (Dinh et al. 2014) as a Keras 3 layer."""
import keras
import numpy as np
import tensorflow_probability as tfp

from tfp_flows.layers.coupling import Coupling, ElementwiseTransform

tfb = tfp.bijectors


class ShiftTransform(ElementwiseTransform):
  """The transform of `AdditiveCoupling`: a shift by one raw parameter per entry (log|det| = 0)."""

  def __call__(self, params, width):
    return tfb.Shift(params[..., 0])


@keras.saving.register_keras_serializable(package="tfp_flows")
class AdditiveCoupling(Coupling):
  """Volume-preserving coupling `x_rest = z_rest + m(z_kept[, c])`, `x_kept = z_kept`.

  Dinh, Krueger & Bengio (2014), "NICE", Sec. 3.2 (additive coupling law):
  `tfb.RealNVP` with a shift-only transform and an MLP conditioner `m` that
  starts at zero (see `Coupling`), log|det| = 0. With `parity=0` the first
  `D // 2` coordinates are kept and condition the shift of the others; with
  `parity=1` the event is reversed before and after the coupling, so the
  last `D // 2` (in reverse order) are kept. Alternate the parity between
  steps so every coordinate is transformed.

  Direction: `bijector().forward` (latent -> data) adds `m`; the paper's
  f (data -> latent) adds it too, which is our `inverse` with `m -> -m`,
  the same family.

  Shapes: `[..., D]`; optional context `[..., C]`.

  Args:
    event_size: D >= 2.
    hidden: hidden widths of `m`, e.g. `(13,)`.
    parity: 0 (keep the first half) or 1 (keep the last half).
    activation: hidden activation of `m` (NICE used ReLU).
    context_size: C, or `None`.
    validate_args: passed to TFP.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    ValueError: if `parity` is not 0 or 1; otherwise see `Coupling`.
  """

  def __init__(self, event_size, hidden=(64, 64), parity=0, activation="relu",
               context_size=None, validate_args=False, **kwargs):
    if parity not in (0, 1):
      raise ValueError(f"AdditiveCoupling: parity must be 0 or 1, got {parity!r}.")
    super().__init__(event_size, ShiftTransform(), hidden=hidden, activation=activation,
                     context_size=context_size, validate_args=validate_args, **kwargs)
    self.parity = int(parity)

  def make_bijector(self, context, training):
    """The step (forward: latent -> data): `tfb.RealNVP`, between two reversals if `parity=1`."""
    coupling = super().make_bijector(context, training)
    if self.parity == 0:
      return coupling
    reverse = tfb.Permute(np.arange(self.event_size)[::-1].copy())
    return tfb.Chain([reverse, coupling, reverse])

  def get_config(self):
    config = {**super().get_config(), "parity": self.parity}
    del config["num_masked"]  # always D // 2
    return config
