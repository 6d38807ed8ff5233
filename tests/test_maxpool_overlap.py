"""Overlapping max-pooling (issue 12): pooling round trip, the approximate contract, its mass."""
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.layers.surjections.maxpool_overlap import MaxPool2DOverlap
from tfp_flows.metrics.mass import monte_carlo_mass
from tfp_flows.layers.surjections.uniform_dequantization import UniformDequantization
from tfp_flows.surjections.base import APPROXIMATE, BOUND, EXACT, combine, likelihood
from tfp_flows.layers.surjections.maxpool import MaxPool2D
from tfp_flows.surjections.maxpool_overlap import OverlappingMaxPoolDistribution

tfd, tfb = tfp.distributions, tfp.bijectors


def normal(shape):
  return tfd.Sample(tfd.Normal(tf.constant(0.0, tf.float64), 1.0), shape)


def test_reproduction_pool_samples_pool_back_to_z():
  layer = MaxPool2DOverlap((7, 7, 2), pool_size=3, stride=2, dtype="float64")
  dist = layer.distribution(normal([3, 3, 2]))
  z = normal([3, 3, 2]).sample(64, seed=[3, 4])
  x = dist._generate(z, seed=[5, 6])  # the generative direction for given z
  assert x.shape == (64, 7, 7, 2)
  np.testing.assert_array_equal(layer(x), z)
  log_p = dist.log_prob(x)
  assert log_p.shape == (64,) and np.all(np.isfinite(log_p))


def test_contribution_by_hand():
  """3x3 input, 2x2 windows, stride 1: one window's maximum, the others' and all gaps by hand."""
  x = np.array([[0.0, -1.0, -2.0], [-0.5, 1.0, -3.0], [-4.0, -0.2, 0.5]])
  dist = OverlappingMaxPoolDistribution(normal([2, 2, 1]), (3, 3, 1), 2, 1,
                                        tf.constant([0.7], tf.float64))
  z, contribution = dist._inference(tf.constant(x[None, ..., None]), None)
  np.testing.assert_array_equal(z[0, ..., 0], [[1.0, 1.0], [1.0, 1.0]])  # all share x[1, 1]
  # every entry is bounded by 1, so each window's maximum could be at any of its 4 entries
  gaps = 1.0 - np.delete(x.ravel(), 4)
  expected = (tfd.HalfNormal(tf.constant(0.7, tf.float64)).log_prob(gaps).numpy().sum()
              - 4 * np.log(4.0))
  np.testing.assert_allclose(contribution[0], expected, rtol=1e-12)


@pytest.mark.parametrize("shape,pool,stride", [((7, 7, 1), 3, 3), ((8, 8, 1), 3, 2),
                                               ((7, 7, 1), 1, 1), ((7, 6, 1), 3, 2)])
def test_windows_that_do_not_tile_are_rejected(shape, pool, stride):
  with pytest.raises(ValueError, match=f"pool_size={pool}, stride={stride}"):
    MaxPool2DOverlap(shape, pool_size=pool, stride=stride)


def test_inner_shape_is_checked():
  with pytest.raises(ValueError, match=r"inner event shape \[3, 3, 1\]"):
    MaxPool2DOverlap((7, 7, 1)).distribution(normal([4, 4, 1]))


def test_approximate_propagates():
  assert combine(EXACT, BOUND) == BOUND and combine(BOUND, APPROXIMATE) == APPROXIMATE
  assert combine(EXACT, EXACT) == EXACT
  pool = MaxPool2DOverlap((7, 7, 1), dtype="float64").distribution(normal([3, 3, 1]))
  assert likelihood(pool) == APPROXIMATE and not pool.is_exact
  flow = tfd.TransformedDistribution(pool, tfb.Shift(tf.constant(0.5, tf.float64)))
  assert likelihood(flow) == APPROXIMATE
  assert likelihood(UniformDequantization(8).distribution(flow)) == APPROXIMATE
  exact = MaxPool2D((2, 2, 1), 2, dtype="float64").distribution(normal([1, 1, 1]))
  assert likelihood(exact) == EXACT
  assert likelihood(UniformDequantization(8).distribution(exact)) == BOUND


def test_mass_of_exact_pool_is_one_and_of_overlapping_pool_is_not():
  """The estimator finds mass 1 for the exact MaxPool2D; the overlapping 3x3 case has extra mass."""
  exact = MaxPool2D((2, 4, 1), 2, dtype="float64").distribution(normal([1, 2, 1]))
  mass, error = monte_carlo_mass(exact, num_samples=100_000, fit_samples=5_000)
  assert error < 0.02 and abs(mass - 1.0) < 4 * error + 1e-3, (mass, error)
  overlap = OverlappingMaxPoolDistribution(normal([2, 2, 1]), (3, 3, 1), 2, 1,
                                           tf.ones([1], tf.float64))
  mass, error = monte_carlo_mass(overlap, num_samples=100_000, fit_samples=5_000)
  print(f"overlapping 3x3 / 2x2 / stride 1 mass: {mass:.4f} +- {error:.4f}")
  assert mass - 1.0 > 5 * error, (mass, error)
