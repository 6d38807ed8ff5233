"""Masked affine autoregressive step: MAF (Papamakarios et al. 2017) or IAF (Kingma et al. 2016)."""
import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.bijectors.masked_autoregressive import MaskedAutoregressive
from tfp_flows.layers.affine_coupling import affine
from tfp_flows.layers.flow import check_context
from tfp_flows.layers.made import MADE

tfb = tfp.bijectors


@keras.saving.register_keras_serializable(package="tfp_flows")
class MaskedAffine(keras.layers.Layer):
  """Affine autoregressive step `x_d = mu_d + exp(s_d) z_d`, `(mu_d, s_d) = MADE(x_{<d}, c)`.

  MAF (`inverse=False`, Papamakarios et al. 2017, eq. 3-5): the density
  direction (`bijector().inverse`, data -> latent) costs one MADE pass shared
  with its log-det (`tfp_flows.bijectors.MaskedAutoregressive`); sampling
  (`forward`) costs D passes. IAF (`inverse=True`, Kingma et al. 2016, eq.
  10-11) is `tfb.Invert` of the same map with the MADE reading the latent:
  sampling costs one pass and the density direction D passes. Log-scales are
  soft-clamped to (-`log_scale_bound`, `log_scale_bound`) and the MADE's
  output layer starts at zero, so the step starts as the identity.

  Shapes: `[..., D]`; optional context `[..., C]`.

  Args:
    event_size: D.
    inverse: `False` for MAF, `True` for IAF.
    hidden_units, num_blocks, residual, activation, dropout: of the MADE.
    log_scale_bound: bound of the soft clamp on log-scales.
    context_size: C, or `None`.
    validate_args: passed to TFP.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    ValueError: for a context of the wrong width when the bijector is built,
      or an input whose last dimension is not D when it is applied.
  """

  def __init__(self, event_size, inverse=False, hidden_units=64, num_blocks=1,
               residual=False, activation="relu", dropout=0.0, log_scale_bound=3.0,
               context_size=None, validate_args=False, **kwargs):
    super().__init__(**kwargs)
    self.event_size, self.inverse = int(event_size), bool(inverse)
    self.log_scale_bound = float(log_scale_bound)
    self.context_size = None if context_size is None else int(context_size)
    self.validate_args = bool(validate_args)
    self._config = dict(event_size=self.event_size, inverse=self.inverse,
                        hidden_units=hidden_units, num_blocks=num_blocks,
                        residual=residual, activation=activation, dropout=dropout,
                        log_scale_bound=self.log_scale_bound,
                        context_size=self.context_size, validate_args=self.validate_args)
    self.made = MADE(self.event_size, 2, hidden_units=hidden_units, num_blocks=num_blocks,
                     residual=residual, activation=activation, dropout=dropout,
                     dtype=self.dtype_policy)
    self.made.build((None, self.event_size),
                    None if self.context_size is None else (None, self.context_size))
    last = self.made.last
    last.kernel.assign(tf.zeros_like(last.kernel))
    last.bias.assign(tf.zeros_like(last.bias))
    self.built = True

  def bijector(self, context=None, training=None):
    """The step as a `tfb.Bijector` (forward: latent -> data) for the given context."""
    context = check_context(context, self.context_size, self.name)
    maf = MaskedAutoregressive(
        params_fn=lambda x: self.made(x, context=context, training=training),
        bijector_fn=lambda p: affine(p[..., 0], p[..., 1], self.log_scale_bound),
        event_size=self.event_size, validate_args=self.validate_args)
    return tfb.Invert(maf) if self.inverse else maf

  def call(self, x, context=None, training=None):
    """Maps data to latent (the density direction); returns `z` `[..., D]`."""
    return self.bijector(context, training).inverse(x)

  def get_config(self):
    return {**super().get_config(), **self._config}
