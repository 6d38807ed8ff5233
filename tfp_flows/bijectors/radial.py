"""Radial flow (Rezende & Mohamed 2015, eq. 14) as a `tfb.Bijector` with a closed-form inverse."""
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from tensorflow_probability.python.internal import dtype_util
from tensorflow_probability.python.internal import parameter_properties
from tensorflow_probability.python.internal import tensor_util

tfb = tfp.bijectors


def safe_norm(v):
  """Euclidean norm over the last axis `[..., D] -> [...]`, 0 with zero gradient at v = 0."""
  sq = tf.reduce_sum(tf.square(v), axis=-1)
  positive = sq > 0
  return tf.where(positive, tf.sqrt(tf.where(positive, sq, tf.ones_like(sq))),
                  tf.zeros_like(sq))


class Radial(tfb.Bijector):
  """`f(z) = z + beta_hat h(alpha, r) (z - z0)`, `r = ||z - z0||`, `h = 1 / (alpha + r)`.

  Rezende & Mohamed (2015), eq. 14 and Appendix A.2, with
  `beta_hat = -alpha + softplus(beta) > -alpha`, which makes f invertible for
  every real `beta`. Direction: the paper's f maps latent to latent, TFP's
  `forward` (latent -> data), as here.

  log|det df/dz| = (D-1) log(1 + beta_hat h) + log(1 + beta_hat h + beta_hat h' r),
  `h' = -1/(alpha + r)^2`, evaluated in the cancellation-free form
  `(D-1) [log(s + r) - log(alpha + r)] + log(alpha s + 2 alpha r + r^2)
  - 2 log(alpha + r)` with `s = softplus(beta) = alpha + beta_hat`.

  Inverse in closed form: with `r' = ||x - z0||`, the radius `r >= 0` solves
  `r (r + s) = r' (alpha + r)`, a quadratic whose non-negative root is taken
  in the form free of cancellation; then `z = z0 + (x - z0) (alpha + r) / (s + r)`.
  At the centre (`z = z0`, r = 0) f is the identity point map `f(z0) = z0`
  with Jacobian `(1 + beta_hat / alpha) I`; norms are computed so that
  values and gradients stay finite there.

  Shapes: `z0` is `[..., D]`, `alpha` and `beta` `[...]` (batch dims, e.g.
  from a context network, broadcast against `z`); `z, x` are `[..., D]`;
  log-dets (event_ndims=1) are `[...]`, in nats.

  Args:
    z0: `[..., D]` centre.
    alpha: `[...]` positive scale.
    beta: `[...]` unconstrained strength.
    validate_args: Python bool; when True, a non-positive `alpha` that is
      only known at run time raises `tf.errors.InvalidArgumentError`.
    name: name of the bijector.

  Raises:
    ValueError: if `alpha` is statically known and not positive.
  """

  def __init__(self, z0, alpha, beta, validate_args=False, name="radial"):
    parameters = dict(locals())
    with tf.name_scope(name) as name:
      dtype = dtype_util.common_dtype([z0, alpha, beta], dtype_hint=tf.float32)
      self._z0 = tensor_util.convert_nonref_to_tensor(z0, dtype=dtype, name="z0")
      self._alpha = tensor_util.convert_nonref_to_tensor(alpha, dtype=dtype, name="alpha")
      self._beta = tensor_util.convert_nonref_to_tensor(beta, dtype=dtype, name="beta")
      static_alpha = tf.get_static_value(self._alpha)
      if static_alpha is not None and not np.all(static_alpha > 0):
        raise ValueError(f"Radial needs alpha > 0, got alpha={static_alpha}.")
      super().__init__(forward_min_event_ndims=1, validate_args=validate_args,
                       parameters=parameters, name=name, dtype=dtype)

  @classmethod
  def _parameter_properties(cls, dtype, num_classes=None):
    pp = parameter_properties.ParameterProperties
    return dict(z0=pp(event_ndims=1), alpha=pp(), beta=pp())

  @property
  def z0(self):
    return self._z0

  @property
  def alpha(self):
    return self._alpha

  @property
  def beta(self):
    return self._beta

  def _parameter_control_dependencies(self, is_init):
    if not self.validate_args or is_init == tensor_util.is_ref(self._alpha):
      return []
    return [tf.debugging.assert_positive(self._alpha, message="Radial needs alpha > 0.")]

  def _params(self):
    """`(z0 [..., D], alpha [...], s = softplus(beta) = alpha + beta_hat [...])`."""
    return (tf.convert_to_tensor(self._z0), tf.convert_to_tensor(self._alpha),
            tf.math.softplus(tf.convert_to_tensor(self._beta)))

  def _forward(self, z):
    z0, alpha, s = self._params()
    d = z - z0
    return z + ((s - alpha) / (alpha + safe_norm(d)))[..., tf.newaxis] * d

  def _forward_log_det_jacobian(self, z):
    z0, alpha, s = self._params()
    r = safe_norm(z - z0)
    dim = tf.cast(tf.shape(z)[-1], r.dtype)
    log_ar = tf.math.log(alpha + r)
    return ((dim - 1.0) * (tf.math.log(s + r) - log_ar)
            + tf.math.log(alpha * s + 2.0 * alpha * r + tf.square(r)) - 2.0 * log_ar)

  def _inverse(self, x):
    z0, alpha, s = self._params()
    d = x - z0
    r_out = safe_norm(d)
    half_b = 0.5 * (s - r_out)  # r^2 + 2 half_b r - alpha r_out = 0
    root = tf.sqrt(tf.square(half_b) + alpha * r_out)
    den = half_b + root
    small = alpha * r_out / tf.where(den > 0, den, tf.ones_like(den))
    r = tf.where(half_b >= 0, tf.where(den > 0, small, tf.zeros_like(den)), root - half_b)
    return z0 + ((alpha + r) / (s + r))[..., tf.newaxis] * d
