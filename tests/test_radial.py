"""Radial bijector and layer: closed-form inverse, log-det, the centre, alpha validation."""
import numpy as np
import pytest
import tensorflow as tf

from flow_checks import autodiff_log_det, check_conditional_layer
from tfp_flows.bijectors import Radial
from tfp_flows import layers


CASES = {  # name: (z0, alpha, beta); beta_hat = -alpha + softplus(beta)
    "expanding": ([0.5, -1.0], 0.7, 3.0),
    "contracting": ([0.5, -1.0], 0.7, -4.0),       # beta_hat = -0.68
    "small_alpha": ([1.0, 2.0], 0.05, -2.0),
    "three_d": ([0.1, 0.2, -0.3], 1.5, 0.5),
}


@pytest.mark.parametrize("name", CASES)
def test_round_trip_and_log_det_float64(name):
  z0, alpha, beta = CASES[name]
  bij = Radial(np.float64(z0), np.float64(alpha), np.float64(beta))
  rng = np.random.default_rng(0)
  z = 3 * rng.normal(size=(300, len(z0)))
  radii = 10.0 ** rng.uniform(-8, -1, size=(50, 1))  # points within 1e-8 .. 1e-1 of the centre
  z[:50] = np.asarray(z0) + radii * rng.normal(size=(50, len(z0)))
  x = bij.forward(z)
  np.testing.assert_allclose(bij.inverse(tf.identity(x)), z, atol=1e-10, rtol=0)
  np.testing.assert_allclose(bij.forward_log_det_jacobian(z, 1), autodiff_log_det(bij, z),
                             atol=1e-6, rtol=0)


def test_centre_is_fixed_with_finite_log_det_and_gradients():
  z0 = tf.constant([0.5, -1.0], tf.float64)
  alpha, beta = tf.constant(0.7, tf.float64), tf.constant(0.3, tf.float64)
  with tf.GradientTape(persistent=True) as tape:
    tape.watch([z0, alpha, beta])
    bij = Radial(z0, alpha, beta)
    x = bij.forward(z0[tf.newaxis])
    back = bij.inverse(tf.identity(x))
    ldj = bij.forward_log_det_jacobian(z0[tf.newaxis], 1)
  np.testing.assert_array_equal(x, [z0.numpy()])
  np.testing.assert_array_equal(back, [z0.numpy()])
  beta_hat = -0.7 + np.logaddexp(0, 0.3)
  np.testing.assert_allclose(ldj, [2 * np.log1p(beta_hat / 0.7)], rtol=1e-12)
  for target in (x, back, ldj):
    assert all(np.all(np.isfinite(g)) for g in tape.gradient(target, [z0, alpha, beta]))


@pytest.mark.parametrize("alpha", [0.0, -1.0, [0.5, -0.1]])
def test_non_positive_alpha_raises(alpha):
  with pytest.raises(ValueError, match="alpha"):
    Radial([0.0, 0.0], alpha, 0.0)


def test_runtime_alpha_checked_with_validate_args():
  alpha = tf.Variable(-1.0)
  with pytest.raises(tf.errors.InvalidArgumentError, match="alpha"):
    Radial([0.0, 0.0], alpha, 0.0, validate_args=True).forward([[1.0, 1.0]])


def test_layer_conditional_params_and_float64():
  inner = check_conditional_layer(layers.Radial, z0=(5, 2), alpha=(5,))
  assert np.all(inner.alpha.numpy() > 0)
