"""Planar flow (Rezende & Mohamed 2015, eq. 10-12) as a `tfb.Bijector` with an exact inverse."""
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from tensorflow_probability.python.internal import dtype_util
from tensorflow_probability.python.internal import parameter_properties
from tensorflow_probability.python.internal import tensor_util

tfb = tfp.bijectors


def sech2(s):
  """`1 - tanh(s)^2` written as `4 e / (1 + e)^2`, `e = exp(-2|s|)`: no overflow, no cancellation."""
  e = tf.exp(-2.0 * tf.abs(s))
  return 4.0 * e / tf.square(1.0 + e)


class Planar(tfb.Bijector):
  """`f(z) = z + u_hat tanh(w^T z + b)`, invertible for every real `u, w, b`.

  Rezende & Mohamed (2015), "Variational inference with normalizing flows",
  eq. 10-12 and Appendix A.1: the constructor takes the unconstrained `u`
  and uses `u_hat = u + (m(w^T u) - w^T u) w / ||w||^2`,
  `m(a) = -1 + softplus(a)`, so that `w^T u_hat = m(w^T u) > -1` and f is
  invertible. Direction: the paper's f maps the latent (base) sample to the
  next latent sample, which is TFP's `forward` (latent -> data), as here.

  log|det df/dz| = log|1 + u_hat^T psi(z)|, `psi = (1 - tanh^2(w^T z + b)) w`.

  Finite precision: `1 + w^T u_hat` is computed from the `u_hat` the map
  actually uses (its dot product accumulated in float64), not from
  `softplus(w^T u)`: once `w^T u` is far below 0 (about -14 in float32),
  `softplus(w^T u)` is below the rounding error of `u_hat`, and the two
  disagree (at `w^T u = -20` in float32 by 5.5 nats). So that the map
  stays invertible when rounded, `softplus(w^T u)` is floored at
  `16 eps (1 + ||w|| ||u||)` (eps of the dtype), a bound on that rounding
  error. The floor acts only where `softplus(w^T u)` is below it: for
  `||w|| ||u|| = 15`, below `w^T u` of about -10 in float32 and -31 in
  float64; elsewhere m is the paper's.

  Inverse (not in closed form): the scalar `a = w^T z` solves
  `w^T x = a + (w^T u_hat) tanh(a + b)`, strictly increasing in a; it lies in
  `[w^T x - |w^T u_hat|, w^T x + |w^T u_hat|]` and is found by a vectorised
  bracketed Newton iteration (bisection whenever a Newton step leaves the
  bracket) that stops when every step is below `tolerance` (relative to
  1 + |a|) or after `max_iterations`; then `z = x - u_hat tanh(a + b)`. The
  solution is computed without gradients and then given one differentiable
  Newton step, so gradients of `inverse` are those of the implicit function.

  `w = 0`: the reparameterisation's `w / ||w||^2` is taken as 0, so
  `u_hat = u` and f is the constant shift `z + u tanh(b)`, log-det 0
  (finite, with finite gradients).

  Shapes: `u, w` are `[..., D]`, `b` is `[...]` (batch dims, e.g. from a
  context network, broadcast against each other and against `z`); `z, x`
  are `[..., D]`; log-dets (event_ndims=1) are `[...]`, in nats.

  Args:
    u: unconstrained `[..., D]` direction.
    w: `[..., D]` normal of the hyperplane.
    b: `[...]` offset.
    max_iterations: cap on the inverse's Newton/bisection iterations.
    tolerance: stopping tolerance of the inverse; default 4 machine epsilons.
    validate_args: Python bool, checked by TFP.
    name: name of the bijector.

  Raises:
    ValueError: if the static shapes of `u` and `w` differ in the last axis.
  """

  def __init__(self, u, w, b, max_iterations=100, tolerance=None, validate_args=False,
               name="planar"):
    parameters = dict(locals())
    with tf.name_scope(name) as name:
      dtype = dtype_util.common_dtype([u, w, b], dtype_hint=tf.float32)
      self._u = tensor_util.convert_nonref_to_tensor(u, dtype=dtype, name="u")
      self._w = tensor_util.convert_nonref_to_tensor(w, dtype=dtype, name="w")
      self._b = tensor_util.convert_nonref_to_tensor(b, dtype=dtype, name="b")
      du, dw = self._u.shape[-1:], self._w.shape[-1:]
      if du.is_fully_defined() and dw.is_fully_defined() and du != dw:
        raise ValueError(f"u and w must have the same event size, got shapes "
                         f"{self._u.shape} and {self._w.shape}.")
      self._max_iterations = int(max_iterations)
      self._tolerance = (4 * np.finfo(dtype_util.as_numpy_dtype(dtype)).eps
                         if tolerance is None else float(tolerance))
      super().__init__(forward_min_event_ndims=1, validate_args=validate_args,
                       parameters=parameters, name=name, dtype=dtype)

  @classmethod
  def _parameter_properties(cls, dtype, num_classes=None):
    pp = parameter_properties.ParameterProperties
    return dict(u=pp(event_ndims=1), w=pp(event_ndims=1), b=pp())

  @property
  def u(self):
    return self._u

  @property
  def w(self):
    return self._w

  @property
  def b(self):
    return self._b

  def _reparameterise(self):
    """`(u_hat [..., D], 1 + w^T u_hat [...])`, the latter from `u_hat` as used (1 where w = 0)."""
    u, w = tf.convert_to_tensor(self._u), tf.convert_to_tensor(self._w)
    wu = tf.reduce_sum(w * u, axis=-1, keepdims=True)
    ww = tf.reduce_sum(w * w, axis=-1, keepdims=True)
    nonzero = ww > 0
    w_over_ww = tf.where(nonzero, w / tf.where(nonzero, ww, tf.ones_like(ww)),
                         tf.zeros_like(w))
    eps = np.finfo(dtype_util.as_numpy_dtype(u.dtype)).eps
    floor = 16 * eps * (1.0 + tf.sqrt(ww * tf.reduce_sum(u * u, axis=-1, keepdims=True)))
    u_hat = u + (tf.maximum(tf.math.softplus(wu), floor) - 1.0 - wu) * w_over_ww
    wide = tf.float64  # products of float32 numbers are exact in float64
    one_plus_c = 1.0 + tf.reduce_sum(tf.cast(w, wide) * tf.cast(u_hat, wide), axis=-1)
    return u_hat, tf.cast(one_plus_c, u.dtype)

  def u_hat(self):
    """The constrained direction `u_hat` `[..., D]` (Appendix A.1); `u` where `w = 0`."""
    return self._reparameterise()[0]

  def _slope(self, s, one_plus_c):
    """`1 + c sech^2(s)` as `tanh^2(s) + (1 + c) sech^2(s)`: positive, no cancellation near c = -1."""
    return tf.square(tf.tanh(s)) + one_plus_c * sech2(s)

  def _forward(self, z):
    u_hat, _ = self._reparameterise()
    s = tf.reduce_sum(self._w * z, axis=-1) + self._b
    return z + u_hat * tf.tanh(s)[..., tf.newaxis]

  def _forward_log_det_jacobian(self, z):
    _, one_plus_c = self._reparameterise()
    s = tf.reduce_sum(self._w * z, axis=-1) + self._b
    return tf.math.log(self._slope(s, one_plus_c))

  def _solve(self, y, one_plus_c, b):
    """Root `a` of `a + c tanh(a + b) = y`, `c = one_plus_c - 1 > -1`, elementwise, no gradients."""
    c = one_plus_c - 1.0
    zero = tf.zeros_like(y + c + b)
    y, c, b, one_plus_c = y + zero, c + zero, b + zero, one_plus_c + zero
    lo, hi = y - tf.abs(c), y + tf.abs(c)
    tol = tf.constant(self._tolerance, y.dtype)

    def body(i, a, lo, hi, _):
      g = a + c * tf.tanh(a + b) - y
      dg = self._slope(a + b, one_plus_c)
      lo, hi = tf.where(g < 0, a, lo), tf.where(g > 0, a, hi)
      newton = a - g / tf.where(dg > 0, dg, tf.ones_like(dg))
      inside = (dg > 0) & (newton > lo) & (newton < hi)
      a_new = tf.where(g == 0, a, tf.where(inside, newton, 0.5 * (lo + hi)))
      step = tf.reduce_max(tf.concat(
          [tf.reshape(tf.abs(a_new - a) / (1.0 + tf.abs(a)), [-1]), [tol * 0]], 0))
      return i + 1, a_new, lo, hi, step

    _, a, _, _, _ = tf.while_loop(
        lambda i, a, lo, hi, step: step > tol, body,
        (tf.constant(0), y, lo, hi, tf.constant(np.inf, y.dtype)),
        maximum_iterations=self._max_iterations)
    return a

  def _inverse(self, x):
    u_hat, one_plus_c = self._reparameterise()
    w, b = tf.convert_to_tensor(self._w), tf.convert_to_tensor(self._b)
    y = tf.reduce_sum(w * x, axis=-1)
    a = tf.stop_gradient(self._solve(y, one_plus_c, b))
    # One differentiable Newton step at the root gives the implicit-function gradient.
    g = a + (one_plus_c - 1.0) * tf.tanh(a + b) - y
    dg = self._slope(a + b, one_plus_c)
    a = a - tf.where(dg > 0, g / tf.where(dg > 0, dg, tf.ones_like(dg)), tf.zeros_like(g))
    return x - u_hat * tf.tanh(a + b)[..., tf.newaxis]
