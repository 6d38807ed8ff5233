"""Masked autoregressive bijector whose density direction costs one network pass."""

import tensorflow as tf
import tensorflow_probability as tfp

tfb = tfp.bijectors


class MaskedAutoregressive(tfb.Bijector):
  """Autoregressive bijector `x_d = h(theta_d(x_{<d})).forward(z_d)` (MAF, Papamakarios et al. 2017).

  Direction (TFP convention): `forward` maps latent z to data x and takes D
  sequential network passes; `inverse` (the density direction used by
  `log_prob`) maps x to z in one pass. `IAF` (Kingma et al. 2016) is
  `tfb.Invert` of this bijector.

  Unlike `tfb.MaskedAutoregressiveFlow`, `inverse` and
  `inverse_log_det_jacobian` at the same `y` share one network pass. That
  halves the work of `log_prob`, and keeps the two consistent when the
  network is stochastic (dropout in training); TFP's class calls its network
  once for each, and with dropout the log-det then belongs to another z.

  Args:
    params_fn: callable `x [..., D] -> params [..., D, P]`, autoregressive
      (output d depends on inputs < d only), e.g. a `tfp_flows.layers.MADE`.
    bijector_fn: callable `params [..., D, P] -> elementwise bijector` acting
      on `[..., D]` (event_ndims 0), whose `inverse` maps data to latent; its
      log-det may be a broadcastable constant (as `tfb.Shift`'s).
    event_size: D.
    validate_args: Python bool, checked by TFP.
    name: name of the bijector.

  Shapes: x and z are `[..., D]`; log-dets are `[...]` for event_ndims=1.
  """

  def __init__(
    self, params_fn, bijector_fn, event_size, validate_args=False, name="masked_autoregressive"
  ):
    parameters = dict(locals())
    with tf.name_scope(name) as name:
      self._params_fn, self._bijector_fn = params_fn, bijector_fn
      self._event_size = int(event_size)
      self._memo = (None, None)
      super().__init__(
        forward_min_event_ndims=1,
        is_constant_jacobian=False,
        validate_args=validate_args,
        parameters=parameters,
        name=name,
      )

  @classmethod
  def _parameter_properties(cls, dtype, num_classes=None):
    return {}

  def _elementwise(self, y):
    """The elementwise bijector for conditioning input y, one network pass per y."""
    if self._memo[0] is not y:
      self._memo = (y, self._bijector_fn(self._params_fn(y)))
    return self._memo[1]

  def _forward(self, z):
    def body(i, x):
      return i + 1, self._bijector_fn(self._params_fn(x)).forward(z)

    _, x = tf.while_loop(
      lambda i, _: i < self._event_size,
      body,
      (tf.constant(0), tf.zeros_like(z)),
      maximum_iterations=self._event_size,
    )
    return x

  def _inverse(self, x):
    return self._elementwise(x).inverse(x)

  def _inverse_log_det_jacobian(self, x):
    # A constant-Jacobian elementwise bijector (e.g. `tfb.Shift`) returns a scalar, and one
    # conditioned on a batch of contexts a batch wider than x: broadcast both ways.
    ildj = self._elementwise(x).inverse_log_det_jacobian(x)
    shape = tf.broadcast_dynamic_shape(tf.shape(ildj), tf.shape(x))
    return tf.reduce_sum(tf.broadcast_to(ildj, shape), axis=-1)

  def _forward_log_det_jacobian(self, z):
    return -self._inverse_log_det_jacobian(self.forward(z))
