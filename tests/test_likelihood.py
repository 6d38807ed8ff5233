"""Likelihood estimators: chunked IW estimate, exact models, bits per dimension."""
import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.metrics.likelihood import bits_per_dim, elbo, log_likelihood
from tfp_flows.layers import Abs
from tfp_flows.surjections import AugmentDistribution, DequantizationDistribution

tfd, tfb = tfp.distributions, tfp.bijectors


def tight_bound():
  """Augment whose encoder equals the true conditional: every pass is exactly log p(x)."""
  inner = tfd.Sample(tfd.Normal(np.float64(0.2), 1.3), 4)
  encoder = lambda x: tfd.Sample(tfd.Normal(tf.fill(tf.shape(x)[:-1], np.float64(0.2)), 1.3), 2)
  return AugmentDistribution(inner, encoder, 2), tfd.Sample(tfd.Normal(np.float64(0.2), 1.3), 2)


@pytest.mark.parametrize("k, chunk", [(7, 3), (7, 7), (1, 5), (5000, 1000)])
def test_chunked_estimate_is_exact_for_a_tight_bound(k, chunk):
  dist, marginal = tight_bound()
  x = np.random.default_rng(0).normal(size=(5, 2))
  np.testing.assert_allclose(log_likelihood(dist, x, k, chunk), marginal.log_prob(x), rtol=1e-10)


def loose_bound():
  """Augment with encoder N(0, I) far from the true conditional (correlation 0.9 and -0.8).

  Every pass is a noisy bound, so the importance-weighted estimate from k distinct draws has a
  bias that shrinks like 1/k: k = 20 draws sit about 0.1 nats below log p(x) on average, k = 2000
  within 0.01. A chunked estimate whose chunks repeat the first one's draws is a k = 20 estimate.
  """
  cov = np.array([[1.0, 0.0, 0.9, 0.0], [0.0, 1.0, 0.0, -0.8],
                  [0.9, 0.0, 1.0, 0.0], [0.0, -0.8, 0.0, 1.0]])
  inner = tfd.MultivariateNormalTriL(np.zeros(4), np.linalg.cholesky(cov))
  encoder = lambda x: tfd.Sample(tfd.Normal(tf.zeros(tf.shape(x)[:-1], tf.float64), 1.0), 2)
  return AugmentDistribution(inner, encoder, 2), tfd.MultivariateNormalDiag(np.zeros(2))


@pytest.mark.parametrize("graph", [False, True], ids=["eager", "tf.function"])
def test_chunks_are_independent_draws(graph):
  dist, marginal = loose_bound()
  x = np.random.default_rng(0).normal(size=(100, 2))
  estimate = lambda x, k, chunk: log_likelihood(dist, x, k, chunk)
  if graph:
    estimate = tf.function(estimate, autograph=False)
  tf.random.set_seed(3)
  exact = marginal.log_prob(x).numpy()
  one_chunk = exact - estimate(x, 20, 20).numpy()
  chunked = exact - estimate(x, 600, 20).numpy()  # 30 chunks of 20 (a small graph to trace)
  assert one_chunk.mean() > 0.05  # the bias a chunked estimate must remove
  assert abs(chunked.mean()) < 0.02, f"k = 600 in chunks of 20 is off by {chunked.mean()} nats"


def test_chunked_equals_unchunked_up_to_monte_carlo_error():
  dist = DequantizationDistribution(tfd.Sample(tfd.Beta(np.float64(2), 3.0), 2), num_bits=2)
  x = np.array([[0.0, 1.0], [3.0, 3.0]])
  tf.random.set_seed(3)
  chunked = log_likelihood(dist, x, num_samples=4000, chunk_size=250)
  whole = log_likelihood(dist, x, num_samples=4000, chunk_size=4000)
  np.testing.assert_allclose(chunked, whole, atol=0.03)
  one = np.mean([elbo(dist, x) for _ in range(50)], axis=0)
  assert np.all(one < chunked)


def test_exact_model_returns_log_prob():
  dist = Abs(2, q=0.3, learn_q=False).distribution(
      tfd.TransformedDistribution(tfd.Sample(tfd.Normal(0.0, 1.0), 2), tfb.Softplus()))
  x = tf.constant([[1.0, -2.0], [0.5, 0.5]])
  np.testing.assert_array_equal(log_likelihood(dist, x, num_samples=100), dist.log_prob(x))


def test_log_likelihood_rejects_bad_counts():
  dist, _ = tight_bound()
  with pytest.raises(ValueError, match="num_samples and chunk_size"):
    log_likelihood(dist, np.zeros((1, 2)), num_samples=0)


def test_bits_per_dim():
  nats = -3 * 4 * math.log(2.0)
  np.testing.assert_allclose(bits_per_dim(nats, 4), 3.0)
  np.testing.assert_allclose(bits_per_dim(nats, 4, num_bits=8), 11.0)
