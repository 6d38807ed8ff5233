"""Coupling steps on vectors: x_{m+1:D} moved by an elementwise transform of MLP(x_{1:m}, context)."""
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.checks import check_bool, check_int, check_ints
from tfp_flows.layers.mlp import MLP
from tfp_flows.layers.step import FlowStep

tfb = tfp.bijectors


class ElementwiseTransform:
  """The elementwise part of a coupling step, shared by `Coupling` and `ConvCoupling` steps.

  A coupling step's conditioner emits `params_per_dim` raw parameters per
  transformed entry; calling the transform, `transform(params, width)`, maps
  them to the elementwise bijector that moves those entries (the spline's is
  also `SplineAutoregressive`'s). Subclasses check their own arguments
  (raising `TypeError`/`ValueError` naming the step) and return them from
  `get_config`, which the step merges into its own config.
  """

  params_per_dim = 1

  def __call__(self, params, width):
    """The elementwise bijector (forward: latent -> data) of raw parameters.

    Args:
      params: `[..., *transformed, P]` conditioner outputs.
      width: the width of the conditioner's last hidden layer (hidden units
        or filters), or `None` if it has none.

    Returns:
      A `tfb.Bijector` acting elementwise on `[..., *transformed]`.
    """
    raise NotImplementedError(f"{type(self).__name__} must implement __call__.")

  def get_config(self):
    """The transform's constructor arguments, as the step's `get_config` entries."""
    return {}


class Coupling(FlowStep):
  """Base class of coupling steps on vectors (Dinh et al. 2017, Sec. 3.3): MLP and transform.

  The first `num_masked` dimensions pass unchanged; the other `D - m` are
  moved by `transform(params, hidden[-1])`, where
  `params = MLP([x_{1:m}, context])` has shape `[..., D - m, P]`. The
  `FlowStep` hook `make_bijector` returns
  `tfb.RealNVP(num_masked=m, bijector_fn=...)`, so the same conditioner pass
  serves sampling and density evaluation. The conditioner's last layer starts
  at zero, so a transform that is the identity at zero parameters starts as
  the identity. Alternate with `Permutation` so every dimension is
  transformed. Subclasses (`AffineCoupling`, `SplineCoupling`,
  `AdditiveCoupling`) choose the transform; `ConvCoupling` is the same step
  on images, with a mask and a convolutional conditioner.

  Shapes: `x` `[..., D]`; optional context `[..., C]` (broadcast against x's
  batch shape).

  Args:
    event_size: D >= 2.
    transform: the `ElementwiseTransform` (set by subclasses).
    num_masked: m in [1, D - 1]; default D // 2.
    hidden: widths of the conditioner's hidden layers.
    activation: Keras activation of the conditioner.
    context_size: C, or `None` for an unconditional step.
    validate_args: passed to the TFP bijectors.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: if a size is not an integer, or `validate_args` not a bool.
    ValueError: if `event_size < 2`, `num_masked` outside [1, D - 1] or
      `hidden` has a width below 1; when the bijector is built, for a
      missing, unexpected or wrongly sized context; when it is applied, for
      an input whose last dimension is not D, or a context whose batch shape
      does not broadcast against the input's.
  """

  def __init__(self, event_size, transform, num_masked=None, hidden=(64, 64),
               activation="relu", context_size=None, validate_args=False, **kwargs):
    owner = type(self).__name__
    super().__init__(check_int(owner, "event_size", event_size, 2), context_size, **kwargs)
    self.num_masked = self.event_size // 2 if num_masked is None else check_int(
        owner, "num_masked", num_masked)
    if not 1 <= self.num_masked < self.event_size:
      raise ValueError(f"{owner}: num_masked must be in [1, event_size - 1] = [1, "
                       f"{self.event_size - 1}], got {self.num_masked}.")
    hidden = check_ints(owner, "hidden", hidden)
    self.elementwise, self.validate_args = transform, check_bool(owner, "validate_args",
                                                                 validate_args)
    self._base_config = dict(event_size=self.event_size, num_masked=self.num_masked,
                             hidden=hidden, activation=activation,
                             context_size=self.context_size,
                             validate_args=self.validate_args, **transform.get_config())
    units = (self.event_size - self.num_masked) * transform.params_per_dim
    self.conditioner = MLP(hidden, units, activation=activation, dtype=self.dtype_policy)
    self.conditioner.build((None, self.num_masked + (self.context_size or 0)))
    last = self.conditioner.dense[-1]
    last.kernel.assign(tf.zeros_like(last.kernel))
    last.bias.assign(tf.zeros_like(last.bias))
    self.built = True

  def make_bijector(self, context, training):
    """`tfb.RealNVP` (forward: latent -> data) moving x_{m+1:D} by the transform of the MLP."""
    transformed = self.event_size - self.num_masked
    hidden = self.conditioner.hidden
    width = hidden[-1] if hidden else None

    def bijector_fn(x0, units):
      if units != transformed:
        raise ValueError(f"{self.name} expects inputs of shape [..., {self.event_size}], "
                         f"got [..., {self.num_masked + units}].")
      h = x0
      if context is not None:
        batch = self._broadcast_batch(x0, context)
        h = tf.concat([tf.broadcast_to(x0, tf.concat([batch, [self.num_masked]], 0)),
                       tf.broadcast_to(context, tf.concat([batch, [self.context_size]], 0))],
                      axis=-1)
      params = self.conditioner(h)
      params = tf.reshape(params, tf.concat(
          [tf.shape(params)[:-1], [transformed, self.elementwise.params_per_dim]], 0))
      return self.elementwise(params, width)

    return tfb.RealNVP(num_masked=self.num_masked, bijector_fn=bijector_fn,
                       validate_args=self.validate_args)

  def _broadcast_batch(self, x0, context):
    """The broadcast batch shape of `x0` and `context`; `ValueError` naming both if they clash."""
    xs, cs = x0.shape[:-1], context.shape[:-1]
    if xs.rank is not None and cs.rank is not None:
      try:
        tf.broadcast_static_shape(xs, cs)
      except ValueError:
        raise ValueError(f"{self.name}: the context's batch shape {tuple(cs)} does not "
                         f"broadcast against the input's {tuple(xs)}.") from None
    return tf.broadcast_dynamic_shape(tf.shape(x0)[:-1], tf.shape(context)[:-1])

  def get_config(self):
    return {**super().get_config(), **self._base_config}
