"""Sort and stochastic permutation on point sets `[N, D]` (axis -2, sort key): densities and errors."""
import itertools
import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.bijectors import ascending_column
from tfp_flows.metrics import likelihood
from tfp_flows.surjections import SortDistribution, StochasticPermutationDistribution
from tfp_flows.surjections.permutation import random_permutation

tfb, tfd = tfp.bijectors, tfp.distributions


def _gaussian_set(n, d, loc=None):
  """A non-exchangeable Gaussian over `[n, d]` sets: point i centred at `loc[i]`."""
  loc = np.arange(n * d, dtype=np.float64).reshape(n, d) if loc is None else loc
  return tfd.Independent(tfd.Normal(tf.constant(loc), 0.7), 2)


def test_random_permutation_moves_whole_points():
  v = tf.constant(np.arange(2 * 6 * 3, dtype=np.float64).reshape(2, 6, 3))
  w = random_permutation(v, (3, 4), axis=-2).numpy()
  for a, b in zip(v.numpy(), w):
    assert sorted(map(tuple, a)) == sorted(map(tuple, b))  # same points...
    assert not np.array_equal(a, b)  # ...in another order


def test_sort_of_sets_integrates_to_one_on_a_grid():
  # N = 2 points in D = 1: p(x) = inner(sorted x) / 2! over R^2, inner ascending in column 0.
  inner = tfd.TransformedDistribution(_gaussian_set(2, 1, np.array([[0.3], [-0.5]])),
                                      ascending_column(2, 1, column=0))
  dist = SortDistribution(inner, key=0)
  axis = np.linspace(-8, 8, 401)  # second axis shifted half a cell: no ties on the grid
  grid = np.stack(np.meshgrid(axis, axis + 0.02, indexing="ij"), -1).reshape(-1, 2, 1)
  mass = np.exp(dist.log_prob(tf.constant(grid)).numpy()).sum() * (axis[1] - axis[0]) ** 2
  assert abs(mass - 1.0) < 1e-3, mass
  x = tf.constant([[[1.0], [-2.0]]], tf.float64)
  np.testing.assert_allclose(dist.log_prob(x), dist.log_prob(x[:, ::-1]))  # order-free


def test_sort_of_sets_sorts_by_the_key_and_samples_sets_of_the_inner():
  inner = tfd.TransformedDistribution(_gaussian_set(4, 2), ascending_column(4, 2, column=1))
  dist = SortDistribution(inner, key=1, validate_args=True)
  x = dist.sample(3, seed=(1, 2))
  assert x.shape == (3, 4, 2)
  z = tf.gather(x, tf.argsort(x[..., 1], axis=-1), axis=1, batch_dims=1)
  np.testing.assert_allclose(dist.log_prob(x), inner.log_prob(z) - math.log(24), rtol=1e-12)


def test_permutation_of_sets_is_a_bound_below_the_mixture_and_tight_when_exchangeable():
  n, d = 3, 2
  inner = _gaussian_set(n, d)
  dist = StochasticPermutationDistribution(inner, axis=-2)
  x = inner.sample(4, seed=(5, 6)) + 0.5
  perms = list(itertools.permutations(range(n)))
  exact = tf.reduce_logsumexp(tf.stack([inner.log_prob(tf.gather(x, p, axis=1))
                                        for p in perms]), 0) - math.log(len(perms))
  one = dist.log_prob(x)
  weighted = likelihood.log_likelihood(dist, x, num_samples=3000, chunk_size=1000)
  assert np.all(one.numpy() <= exact.numpy() + 1e-9)
  assert np.mean(weighted - exact) > np.mean(one - exact)  # importance weighting tightens it
  np.testing.assert_allclose(weighted, exact, atol=0.1)
  iid = tfd.Sample(tfd.Normal(tf.constant(0.0, tf.float64), 1.0), [n, d])  # exchangeable
  tight = StochasticPermutationDistribution(iid, axis=-2)
  np.testing.assert_allclose(tight.log_prob(x), iid.log_prob(x), rtol=1e-12)


def test_bad_axes_and_keys_name_the_value():
  with pytest.raises(ValueError, match=r"axis must be -1 .* got axis=-2 and inner event shape \(3,\)"):
    StochasticPermutationDistribution(tfd.Sample(tfd.Normal(0.0, 1.0), 3), axis=-2)
  with pytest.raises(ValueError, match=r"axis must be .* got axis=0"):
    StochasticPermutationDistribution(_gaussian_set(3, 2), axis=0)
  with pytest.raises(ValueError, match=r"key \(the sort coordinate\) must be an int in \[0, D - 1\]"
                                       r".* got key=2 and inner event shape \(3, 2\)"):
    SortDistribution(_gaussian_set(3, 2), key=2)
  with pytest.raises(ValueError, match=r"vector event \[D\] to sort, got event shape \(3, 2\)"):
    SortDistribution(_gaussian_set(3, 2))
