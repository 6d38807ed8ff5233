"""Shared part of coupling steps: an MLP conditioner on (x_{1:m}, context) driving `tfb.RealNVP`."""
import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.layers.flow import check_context
from tfp_flows.layers.mlp import MLP

tfb = tfp.bijectors


class Coupling(keras.layers.Layer):
  """Base class of coupling steps (Dinh et al. 2017, Sec. 3.3); subclasses map parameters to a bijector.

  The first `num_masked` dimensions pass unchanged; the other `D - m` are
  transformed elementwise by `self.transform(params)`, where
  `params = MLP([x_{1:m}, context])` has shape `[..., D - m, P]`. The step is
  `tfb.RealNVP(num_masked=m, bijector_fn=...)`, so the same conditioner pass
  serves sampling and density evaluation. The conditioner's last layer starts
  at zero, so a subclass whose transform is the identity at zero parameters
  starts as the identity. Alternate with `Permutation` so every dimension is
  transformed.

  Shapes: `x` `[..., D]`; optional context `[..., C]` (broadcast against x's
  batch shape).

  Args:
    event_size: D >= 2.
    params_per_dim: P, parameters per transformed dimension (set by subclasses).
    num_masked: m in [1, D - 1]; default D // 2.
    hidden: widths of the conditioner's hidden layers.
    activation: Keras activation of the conditioner.
    context_size: C, or `None` for an unconditional step.
    validate_args: passed to the TFP bijectors.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    ValueError: for `num_masked` outside [1, D - 1]; when the bijector is
      built, for a context of the wrong width; when it is applied, for an
      input whose last dimension is not D.
  """

  def __init__(self, event_size, params_per_dim, num_masked=None, hidden=(64, 64),
               activation="relu", context_size=None, validate_args=False, **kwargs):
    super().__init__(**kwargs)
    self.event_size = int(event_size)
    self.num_masked = self.event_size // 2 if num_masked is None else int(num_masked)
    if not 1 <= self.num_masked < self.event_size:
      raise ValueError(f"num_masked must be in [1, event_size - 1] = [1, "
                       f"{self.event_size - 1}], got {self.num_masked}.")
    self.params_per_dim = int(params_per_dim)
    self.context_size = None if context_size is None else int(context_size)
    self.validate_args = bool(validate_args)
    self._base_config = dict(event_size=self.event_size, num_masked=self.num_masked,
                             hidden=tuple(hidden), activation=activation,
                             context_size=self.context_size,
                             validate_args=self.validate_args)
    units = (self.event_size - self.num_masked) * self.params_per_dim
    self.conditioner = MLP(hidden, units, activation=activation, dtype=self.dtype_policy)
    self.conditioner.build((None, self.num_masked + (self.context_size or 0)))
    last = self.conditioner.dense[-1]
    last.kernel.assign(tf.zeros_like(last.kernel))
    last.bias.assign(tf.zeros_like(last.bias))
    self.built = True

  def transform(self, params):
    """Elementwise bijector on `[..., D - m]` from `params [..., D - m, P]`."""
    raise NotImplementedError

  def bijector(self, context=None):
    """The step as a `tfb.RealNVP` (forward: latent -> data) for the given context."""
    context = check_context(context, self.context_size, self.name)
    transformed = self.event_size - self.num_masked

    def bijector_fn(x0, units):
      if units != transformed:
        raise ValueError(f"{self.name} expects inputs of shape [..., {self.event_size}], "
                         f"got [..., {self.num_masked + units}].")
      h = x0
      if context is not None:
        batch = tf.broadcast_dynamic_shape(tf.shape(x0)[:-1], tf.shape(context)[:-1])
        h = tf.concat([tf.broadcast_to(x0, tf.concat([batch, [self.num_masked]], 0)),
                       tf.broadcast_to(context, tf.concat([batch, [self.context_size]], 0))],
                      axis=-1)
      params = self.conditioner(h)
      params = tf.reshape(params, tf.concat(
          [tf.shape(params)[:-1], [transformed, self.params_per_dim]], 0))
      return self.transform(params)

    return tfb.RealNVP(num_masked=self.num_masked, bijector_fn=bijector_fn,
                       validate_args=self.validate_args)

  def call(self, x, context=None):
    """Maps data to latent (the density direction); returns `z` `[..., D]`."""
    return self.bijector(context).inverse(x)

  def get_config(self):
    return {**super().get_config(), **self._base_config}
