"""Elementwise affine bijector whose parameters may depend on the data batch (ActNorm, batch norm)."""
import tensorflow as tf
import tensorflow_probability as tfp

tfb = tfp.bijectors


class DataAffine(tfb.Bijector):
  """`x = loc + exp(log_scale) * z` elementwise, with `(loc, log_scale) = params_fn(x or None)`.

  In the density direction (`inverse`, data -> latent) the parameters are
  `params_fn(x)`, called once per data batch `x` and shared between
  `inverse` and `inverse_log_det_jacobian`; `params_fn` may compute them from
  the batch (batch normalisation in training, RealNVP Sec. 3.7) or use the
  batch for a one-off initialisation (ActNorm, Glow Sec. 3.1), with side
  effects. In the sampling direction (`forward`) they are `params_fn(None)`,
  the stored parameters. When `params_fn` ignores its argument this is a
  plain bijection; otherwise the Jacobian treats the batch statistics as
  constants, as the RealNVP paper does.

  Args:
    params_fn: callable `x [..., D] or None -> (loc [D], log_scale [D])`.
    event_size: D; inputs of another width raise `ValueError`.
    validate_args: if True, check that the parameters are finite.
    name: name of the bijector.

  Shapes: x and z `[..., D]`; log-dets `[...]` for event_ndims=1.
  """

  def __init__(self, params_fn, event_size, validate_args=False, name="data_affine"):
    parameters = dict(locals())
    with tf.name_scope(name) as name:
      self._params_fn, self._event_size = params_fn, int(event_size)
      self._memo = (None, None)
      super().__init__(forward_min_event_ndims=1, is_constant_jacobian=False,
                       validate_args=validate_args, parameters=parameters, name=name)

  @classmethod
  def _parameter_properties(cls, dtype, num_classes=None):
    return {}

  def _check(self, x):
    if x.shape[-1] is not None and x.shape[-1] != self._event_size:
      raise ValueError(f"{self.name} expects inputs of shape [..., {self._event_size}], "
                       f"got shape {tuple(x.shape)}.")

  def _params(self, x):
    """`params_fn(x)`, called once per distinct data batch x (None: stored parameters)."""
    if x is not None and self._memo[0] is x:
      return self._memo[1]
    loc, log_scale = self._params_fn(x)
    if self.validate_args:
      loc = tf.debugging.assert_all_finite(loc, f"{self.name}: loc is not finite.")
      log_scale = tf.debugging.assert_all_finite(
          log_scale, f"{self.name}: log_scale is not finite.")
    if x is not None:
      self._memo = (x, (loc, log_scale))
    return loc, log_scale

  def _forward(self, z):
    self._check(z)
    loc, log_scale = self._params(None)
    return loc + tf.exp(log_scale) * z

  def _inverse(self, x):
    self._check(x)
    loc, log_scale = self._params(x)
    return (x - loc) * tf.exp(-log_scale)

  def _forward_log_det_jacobian(self, z):
    self._check(z)
    _, log_scale = self._params(None)
    return tf.broadcast_to(tf.reduce_sum(log_scale, -1), tf.shape(z)[:-1])

  def _inverse_log_det_jacobian(self, x):
    self._check(x)
    _, log_scale = self._params(x)
    return tf.broadcast_to(-tf.reduce_sum(log_scale, -1), tf.shape(x)[:-1])
