"""Affine coupling step (RealNVP, Dinh et al. 2017) as a Keras 3 layer."""
import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.checks import check_positive
from tfp_flows.layers.coupling import Coupling, ElementwiseTransform

tfb = tfp.bijectors


def soft_clamp(raw, bound):
  """`bound * tanh(raw / bound)`: identity near 0, smoothly limited to (-bound, bound).

  Used for log-scales of affine flow steps so a large network output cannot
  overflow `exp` (the soft clamp of Glow-style and nflows-style affine
  couplings; here symmetric, so scales lie in (e^-bound, e^bound)).

  Args:
    raw: unconstrained tensor.
    bound: positive float.

  Returns:
    A tensor like `raw`.
  """
  return bound * tf.math.tanh(raw / bound)


def affine(shift, raw_log_scale, bound):
  """Elementwise `x = shift + exp(soft_clamp(raw_log_scale)) * z` as `tfb.Shift(shift)(tfb.Scale(...))`.

  Args:
    shift: `[..., D]` tensor.
    raw_log_scale: `[..., D]` tensor.
    bound: bound of `soft_clamp` on the log-scale.

  Returns:
    A `tfb.Chain` (forward: latent -> data); log|det| = sum of log-scales.
  """
  return tfb.Chain([tfb.Shift(shift), tfb.Scale(log_scale=soft_clamp(raw_log_scale, bound))])


class AffineTransform(ElementwiseTransform):
  """The transform of `AffineCoupling` and `ConvAffineCoupling`: `affine(p[..., 0], p[..., 1])`.

  Two raw parameters per entry, the shift and the log-scale, soft-clamped to
  (-`log_scale_bound`, `log_scale_bound`); zero parameters give the identity.

  Args:
    owner: the step's class name, for messages.
    log_scale_bound: bound of the soft clamp on log-scales.

  Raises:
    TypeError: if `log_scale_bound` is not a real number.
    ValueError: if it is not positive and finite.
  """

  params_per_dim = 2

  def __init__(self, owner, log_scale_bound):
    self.log_scale_bound = check_positive(owner, "log_scale_bound", log_scale_bound)

  def __call__(self, params, width):
    return affine(params[..., 0], params[..., 1], self.log_scale_bound)

  def get_config(self):
    return {"log_scale_bound": self.log_scale_bound}


@keras.saving.register_keras_serializable(package="tfp_flows")
class AffineCoupling(Coupling):
  """Affine coupling `x_{m+1:D} = mu + exp(s) * z_{m+1:D}`, `(mu, s) = NN(z_{1:m}, c)` (Dinh et al. 2017, eq. 6).

  `tfb.RealNVP` with an MLP conditioner (see `Coupling`); the log-scale is
  soft-clamped to (-`log_scale_bound`, `log_scale_bound`) and the
  conditioner starts at zero, so the step starts as the identity. In the
  density direction (`inverse`), `z_{m+1:D} = (x_{m+1:D} - mu) exp(-s)` with
  `(mu, s) = NN(x_{1:m}, c)`; log|det dx/dz| = sum s.

  Shapes: `[..., D]`; optional context `[..., C]`.

  Args:
    event_size: D >= 2.
    num_masked: m, the number of unchanged dimensions (default D // 2).
    hidden: conditioner hidden widths.
    activation: conditioner activation.
    log_scale_bound: bound of the soft clamp on log-scales.
    context_size: C, or `None`.
    validate_args: passed to TFP.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: if `log_scale_bound` is not a real number; see also `Coupling`.
    ValueError: if `log_scale_bound` is not a positive finite number; see
      also `Coupling`.
  """

  def __init__(self, event_size, num_masked=None, hidden=(64, 64), activation="relu",
               log_scale_bound=3.0, context_size=None, validate_args=False, **kwargs):
    super().__init__(event_size, AffineTransform(type(self).__name__, log_scale_bound),
                     num_masked=num_masked, hidden=hidden, activation=activation,
                     context_size=context_size, validate_args=validate_args, **kwargs)
