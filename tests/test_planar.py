"""Planar bijector and layer: exact inverse, log-det, reparameterisation, w = 0, conditioning."""
import numpy as np
import pytest
import tensorflow as tf

from flow_checks import autodiff_log_det, check_conditional_layer
from tfp_flows.bijectors import Planar
from tfp_flows import layers


CASES = {  # name: (u, w, b); wu = w^T u
    "generic": ([0.7, -1.2], [0.9, 0.4], 0.3),
    "large_u": ([60.0, -80.0], [0.5, 0.2], -1.0),
    "wu_near_boundary": ([-10.0, 0.0], [1.0, 0.0], 0.5),   # w^T u_hat = -1 + 4.5e-5
    "large_w": ([0.3, 0.2], [25.0, -30.0], 2.0),
}


@pytest.mark.parametrize("name", CASES)
def test_round_trip_and_log_det_float64(name):
  u, w, b = CASES[name]
  bij = Planar(np.float64(u), np.float64(w), np.float64(b))
  rng = np.random.default_rng(0)
  z = 3 * rng.normal(size=(400, 2))
  # Points on and next to the hyperplane w^T z + b = 0, where the slope is smallest.
  w = np.asarray(w)
  z[:50] -= ((z[:50] @ w + b) / (w @ w))[:, None] * w
  z[50:100] = z[:50] + 1e-3 * rng.normal(size=(50, 2))
  x = bij.forward(z)
  np.testing.assert_allclose(bij.inverse(tf.identity(x)), z, atol=1e-10, rtol=0)
  np.testing.assert_allclose(bij.forward_log_det_jacobian(z, 1), autodiff_log_det(bij, z),
                             atol=1e-6, rtol=0)
  np.testing.assert_allclose(bij.inverse_log_det_jacobian(tf.identity(x), 1),
                             -bij.forward_log_det_jacobian(z, 1), atol=1e-8)


def test_reparameterisation_keeps_w_dot_u_hat_above_minus_one():
  rng = np.random.default_rng(1)
  u, w = 5 * rng.normal(size=(100, 2)), rng.normal(size=(100, 2))
  u_hat = Planar(u, w, np.zeros(100)).u_hat().numpy()
  wu_hat = np.sum(w * u_hat, -1)
  np.testing.assert_allclose(wu_hat, -1 + np.logaddexp(0, np.sum(w * u, -1)), atol=1e-9)
  assert np.all(wu_hat > -1)


def test_w_zero_is_a_finite_shift_with_finite_gradients():
  u, w = tf.constant([1.0, -2.0], tf.float64), tf.zeros(2, tf.float64)
  b = tf.constant(0.5, tf.float64)
  z = tf.constant(np.random.default_rng(2).normal(size=(5, 2)))
  with tf.GradientTape() as tape:
    tape.watch([u, w, b])
    bij = Planar(u, w, b)
    x = bij.forward(z)
    loss = tf.reduce_sum(x) + tf.reduce_sum(bij.forward_log_det_jacobian(z, 1))
  np.testing.assert_allclose(x, z + np.tanh(0.5) * np.array([1.0, -2.0]))
  np.testing.assert_array_equal(bij.forward_log_det_jacobian(z, 1), np.zeros(5))
  np.testing.assert_allclose(bij.inverse(tf.identity(x)), z, atol=1e-12)
  assert all(np.all(np.isfinite(g)) for g in tape.gradient(loss, [u, w, b]))


def test_batched_parameters_broadcast():
  rng = np.random.default_rng(3)
  u, w, b = rng.normal(size=(4, 3, 2)), rng.normal(size=(4, 3, 2)), rng.normal(size=(4, 3))
  z = rng.normal(size=(3, 2))
  bij = Planar(u, w, b)
  x = bij.forward(z)
  assert x.shape == (4, 3, 2) and bij.forward_log_det_jacobian(z, 1).shape == (4, 3)
  single = Planar(u[2, 1], w[2, 1], b[2, 1])
  np.testing.assert_allclose(x[2, 1], single.forward(z[1]), atol=1e-12)
  np.testing.assert_allclose(bij.inverse(tf.identity(x)), np.broadcast_to(z, x.shape), atol=1e-10)


def test_inverse_gradient_matches_finite_differences():
  u, w = tf.Variable([0.8, -0.5], dtype=tf.float64), tf.Variable([1.1, 0.7], dtype=tf.float64)
  b = 0.2
  x = tf.constant([[0.4, -1.3], [2.0, 0.5]], tf.float64)
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(tf.square(Planar(u, w, b).inverse(x)))
  grad = tape.gradient(loss, u).numpy()
  eps, fd = 1e-6, []
  for i in range(2):
    shift = np.eye(2)[i] * eps
    plus = tf.reduce_sum(tf.square(Planar(u + shift, w, b).inverse(x)))
    minus = tf.reduce_sum(tf.square(Planar(u - shift, w, b).inverse(x)))
    fd.append((plus - minus).numpy() / (2 * eps))
  np.testing.assert_allclose(grad, fd, rtol=1e-5)


def test_layer_conditional_params_and_float64():
  check_conditional_layer(layers.Planar, u=(5, 2), b=(5,))


@pytest.mark.parametrize("wu", [-20.0, -40.0, -100.0])
def test_float32_log_det_matches_the_map_computed_far_below_minus_14(wu):
  # Rounded u_hat and softplus(w.u) disagree once w.u < -14 in float32; the log-det
  # must be that of the map with the u_hat actually used (computed here in float64
  # by slogdet of I + u_hat w^T sech^2(s)), and that map must stay invertible.
  w = np.array([0.6, 0.8], np.float32)
  u = (wu * w + 3.0 * np.array([0.8, -0.6])).astype(np.float32)
  b = np.float32(0.3)
  bij = Planar(u, w, b)
  z = np.random.default_rng(0).normal(size=(6, 2)).astype(np.float32)
  z[:3] -= ((z[:3] @ w + b) / (w @ w))[:, None] * w  # on the hyperplane: smallest slope
  reported = bij.forward_log_det_jacobian(z, 1).numpy()
  u_hat, w64 = bij.u_hat().numpy().astype(np.float64), w.astype(np.float64)
  assert w64 @ u_hat > -1.0, "the map as computed is not invertible"
  sech2 = 1.0 - np.tanh(z.astype(np.float64) @ w64 + b) ** 2
  actual = [np.linalg.slogdet(np.eye(2) + np.outer(u_hat, w64) * s)[1] for s in sech2]
  np.testing.assert_allclose(reported, actual, atol=1e-4, rtol=0)
