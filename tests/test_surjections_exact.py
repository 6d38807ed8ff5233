"""Exact surjections (abs, sort, max, max-pool, slice): identities, samples, round trips.

Normalisation, tf.function, gradients and save/reload: tests/test_surjection_conformance.py.
"""
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from scipy import stats

from tfp_flows.layers import Abs, Max, MaxPool2D, Slice
from tfp_flows.surjections import AbsDistribution, MaxDistribution, SortDistribution

tfd, tfb = tfp.distributions, tfp.bijectors


def normal2():
  return tfd.Sample(tfd.Normal(np.float64(0), 1.0), 2)


def positive_flow():
  """A bijective density on (0, inf)^2: shifted-and-scaled Gaussian through a softplus."""
  return tfd.TransformedDistribution(
      normal2(), tfb.Chain([tfb.Softplus(), tfb.Shift(np.array([0.3, -0.4])),
                            tfb.Scale(np.array([0.8, 1.3]))]))


def abs_flow(q):
  logits = np.log(np.asarray(q) / (1 - np.asarray(q)))
  return tfd.TransformedDistribution(AbsDistribution(positive_flow(), logits),
                                     tfb.Shift(np.array([0.51, -0.25])))


def sort_flow():
  return SortDistribution(tfd.TransformedDistribution(
      normal2(), tfb.Chain([tfb.Ascending(), tfb.Scale(np.array([1.2, 0.7]))])))


def max_flow():
  return MaxDistribution(tfd.Normal(np.float64(0.5), 1.5), np.array([0.7, -0.2]),
                         np.array([0.5, 1.5]))


def test_abs_half_is_base_density_of_abs_minus_log2_per_dim():
  base = tfd.Sample(tfd.Logistic(np.float64(0.3), 0.7), 3)
  dist = Abs(3, q=0.5, learn_q=False, dtype="float64").distribution(base)
  x = np.random.default_rng(0).normal(size=(50, 3))
  np.testing.assert_allclose(dist.log_prob(x), base.log_prob(np.abs(x)) - 3 * np.log(2.0),
                             rtol=1e-12)


def chi2_pvalue(samples, dist, edges, alternative=None):
  """Chi-square p-value of 2-D samples against the bin masses of exp(log_prob) on `edges`."""
  counts, _, _ = np.histogram2d(samples[:, 0], samples[:, 1], bins=[edges, edges])
  fine = np.linspace(edges[0], edges[-1], 20 * (len(edges) - 1) + 1)
  mid = (fine[1:] + fine[:-1]) / 2 + 1e-4
  gx, gy = np.meshgrid(mid, mid + 0.3 * (fine[1] - fine[0]), indexing="ij")
  dens = np.exp((alternative or dist).log_prob(np.stack([gx.ravel(), gy.ravel()], -1)).numpy())
  mass = dens.reshape(len(mid), len(mid)) * (fine[1] - fine[0]) ** 2
  mass = mass.reshape(len(edges) - 1, 20, len(edges) - 1, 20).sum(axis=(1, 3))
  expected = mass / mass.sum() * counts.sum()
  keep = expected > 5
  chi2 = ((counts[keep] - expected[keep]) ** 2 / expected[keep]).sum()
  return stats.chi2.sf(chi2, keep.sum() - 1)


@pytest.mark.parametrize("make, broken", [
    (lambda: abs_flow([0.3, 0.8]), lambda: abs_flow([0.7, 0.2])),
    (max_flow, lambda: MaxDistribution(tfd.Normal(np.float64(0.5), 1.5),
                                       np.array([0.7, -0.2]), np.array([1.5, 0.5]))),
    (sort_flow, None)])
def test_samples_match_density(make, broken):
  dist = make()
  samples = dist.sample(20000, seed=(4, 2)).numpy()
  edges = np.linspace(-4, 4, 9)
  assert chi2_pvalue(samples, dist, edges) > 1e-3
  if broken is not None:  # the same test rejects a layer with swapped parameters
    assert chi2_pvalue(samples, dist, edges, alternative=broken()) < 1e-6


def deterministic(z, event_ndims):
  return tfd.Independent(tfd.Deterministic(z), reinterpreted_batch_ndims=event_ndims)


def test_round_trips_of_inference_directions():
  x = tf.random.stateless_normal([64, 3], seed=(1, 1), dtype=tf.float64)
  abs_layer, max_layer = Abs(3, q=0.2, dtype="float64"), Max(3, dtype="float64")
  for layer, z, nd in [(abs_layer, tf.abs(x), 1), (max_layer, tf.reduce_max(x, -1), 0)]:
    again = layer.distribution(deterministic(z, nd)).sample(seed=(3, 4))
    np.testing.assert_array_equal(layer(again), z)
    assert again.shape == x.shape and again.dtype == tf.float64
  sort = SortDistribution(deterministic(tf.sort(x, -1), 1))
  np.testing.assert_array_equal(tf.sort(sort.sample(seed=(3, 4)), -1), tf.sort(x, -1))
  img = tf.random.stateless_normal([5, 4, 6, 3], seed=(2, 2))
  pool = MaxPool2D((4, 6, 3))
  z = pool(img)
  np.testing.assert_array_equal(z, tf.nn.max_pool2d(img, 2, 2, "VALID"))
  again = pool.distribution(deterministic(z, 3)).sample(seed=(5, 6))
  np.testing.assert_array_equal(pool(again), z)
  sl = Slice(5, 2, dtype="float64")
  again = sl.distribution(deterministic(sl(x[:, :2]), 1)).sample(seed=(1, 2))
  np.testing.assert_array_equal(sl(again), x[:, :2])


def test_maxpool_log_prob_is_max_over_blocks():
  """MaxPool2D equals Max applied to each 2x2 block gathered by hand."""
  img = tf.random.stateless_normal([3, 4, 4, 2], seed=(7, 7))
  pool = MaxPool2D((4, 4, 2))
  inner = tfd.Sample(tfd.Normal(0.0, 1.0), [2, 2, 2])
  blocks = tf.reshape(tf.transpose(tf.reshape(img, [3, 2, 2, 2, 2, 2]), [0, 1, 3, 5, 2, 4]),
                      [3, 2, 2, 2, 4])
  by_hand = MaxDistribution(inner, pool.logits, tf.exp(pool.log_scale)).log_prob(blocks)
  np.testing.assert_allclose(pool.distribution(inner).log_prob(img), by_hand, rtol=1e-6)
  assert pool.distribution(inner).log_prob(img).shape == (3,)


def test_slice_is_exact_gaussian_factorisation():
  sl = Slice(3, 2, dtype="float64")
  inner = tfd.Sample(tfd.Normal(np.float64(0), 1.0), 2)
  x = np.random.default_rng(1).normal(size=(10, 3))
  dec = sl.decoder.distribution(x[:, :2])
  np.testing.assert_allclose(sl.distribution(inner).log_prob(x),
                             inner.log_prob(x[:, :2]) + dec.log_prob(x[:, 2:]), rtol=1e-12)
  assert sl.distribution(inner).is_exact
