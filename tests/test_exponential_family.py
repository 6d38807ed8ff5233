"""iFlow's prior: exact density in nats that integrates to 1 and matches exp(-xi z^2 + eta z - A)."""
import numpy as np
import pytest
import tensorflow as tf
from scipy import integrate

from tfp_flows.distributions import quadratic_exponential_family
from tfp_flows.layers import ExponentialFamilyPrior


def test_density_integrates_to_one_in_two_dimensions():
  dist = quadratic_exponential_family(tf.constant([0.7, 2.5], tf.float64),
                                      tf.constant([-1.2, 3.0], tf.float64))
  grid = np.linspace(-12, 12, 1201)
  z = np.stack(np.meshgrid(grid, grid, indexing="ij"), axis=-1)
  density = np.exp(dist.log_prob(z).numpy())
  total = integrate.simpson(integrate.simpson(density, x=grid, axis=1), x=grid)
  assert abs(total - 1.0) < 1e-6


def test_log_prob_is_the_natural_parameter_formula_with_the_pi_constant():
  rng = np.random.default_rng(0)
  xi, eta = rng.uniform(0.1, 3, (4, 3)), rng.normal(size=(4, 3))
  z = rng.normal(size=(4, 3))
  log_normaliser = (eta ** 2 / (4 * xi) + 0.5 * np.log(np.pi / xi)).sum(-1)
  expected = (-xi * z ** 2 + eta * z).sum(-1) - log_normaliser
  got = quadratic_exponential_family(xi, eta).log_prob(z).numpy()
  np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("positive_eta", [True, False])
def test_prior_layer_parameters(positive_eta):
  prior = ExponentialFamilyPrior(3, positive_eta=positive_eta, dtype="float64")
  u = tf.one_hot(np.arange(16) % 4, 4, dtype=tf.float64)
  prior.build(u.shape)
  for v in prior.trainable_variables:
    v.assign(tf.random.normal(v.shape, stddev=2.0, dtype=tf.float64, seed=1))
  xi, eta = (t.numpy() for t in prior.natural_parameters(u))
  assert (xi > 0).all()
  assert (eta > 0).all() if positive_eta else (eta < 0).any()
  dist = prior.distribution(u)
  assert dist.batch_shape == [16] and dist.event_shape == [3]
