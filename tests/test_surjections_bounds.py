"""Bound layers (augment, dequantization, VAE, stochastic permutation): samples, identities, nesting.

The bound below an independently computed log p(x), tf.function, gradients and save/reload:
tests/test_surjection_conformance.py.
"""
import numpy as np
import tensorflow_probability as tfp
from scipy import stats

from tfp_flows.metrics.likelihood import log_likelihood
from tfp_flows.layers import Abs, Augment
from tfp_flows.surjections import (
    DequantizationDistribution, StochasticPermutationDistribution, VAEDistribution, is_exact)

tfd, tfb = tfp.distributions, tfp.bijectors

COV = np.array([[1.0, 0.6, 0.5, 0.0], [0.6, 1.0, 0.0, 0.3],
                [0.5, 0.0, 1.0, 0.2], [0.0, 0.3, 0.2, 1.0]])


def gaussian(cov):
  return tfd.MultivariateNormalTriL(np.zeros(len(cov)), np.linalg.cholesky(cov))


def augment_case():
  x = np.array([[0.3, -0.5], [1.0, 2.0], [-1.5, 0.2]])
  return Augment(2, 2, dtype="float64").distribution(gaussian(COV)), x, \
      gaussian(COV[:2, :2]).log_prob(x)


def dequantization_case():
  inner = tfd.Sample(tfd.Beta(np.float64(2.0), 3.0), 2)
  x = np.array([[0.0, 1.0], [3.0, 2.0], [3.0, 3.0]])
  b = tfd.Beta(np.float64(2.0), 3.0)
  exact = np.log(b.cdf((x + 1) / 4) - b.cdf(x / 4)).sum(-1)
  return DequantizationDistribution(inner, num_bits=2), x, exact


def vae_case():
  """Linear-Gaussian VAE: z ~ N(0,1), x | z ~ N(2z, 0.5^2); p(x) = N(0, 4.25)."""
  encoder = lambda x: tfd.Independent(tfd.Normal(0.4 * x, 0.35), 1)  # near N(8x/17, 1/17)
  decoder = lambda z: tfd.Independent(tfd.Normal(2.0 * z, 0.5), 1)
  x = np.array([[0.5], [-2.0], [3.0]])
  dist = VAEDistribution(tfd.Sample(tfd.Normal(np.float64(0), 1.0), 1), encoder, decoder, [1])
  return dist, x, tfd.Normal(np.float64(0), np.sqrt(4.25)).log_prob(x[:, 0])


def test_dequantization_samples_match_probabilities():
  dist, _, _ = dequantization_case()
  values = np.array([[i, j] for i in range(4) for j in range(4)], dtype="float64")
  probs = np.exp(log_likelihood(dist, values, num_samples=2000, chunk_size=1000).numpy())
  samples = dist.sample(20000, seed=(3, 3)).numpy()
  counts = np.bincount((samples[:, 0] * 4 + samples[:, 1]).astype(int), minlength=16)
  expected = probs / probs.sum() * counts.sum()
  assert abs(probs.sum() - 1) < 1e-2
  assert stats.chisquare(counts, expected).pvalue > 1e-3
  assert stats.chisquare(counts, expected[::-1]).pvalue < 1e-6  # a broken layer fails


def test_augment_samples_are_the_inner_marginal():
  dist, _, _ = augment_case()
  samples = dist.sample(20000, seed=(5, 5)).numpy()
  assert samples.shape == (20000, 2)
  np.testing.assert_allclose(np.cov(samples.T), COV[:2, :2], atol=0.05)


def test_stochastic_permutation_is_exact_for_symmetric_inner_and_flags_bound():
  inner = tfd.Sample(tfd.Logistic(np.float64(0), 1.0), 3)
  dist = StochasticPermutationDistribution(inner)
  x = np.random.default_rng(0).normal(size=(7, 3))
  np.testing.assert_allclose(dist.log_prob(x), inner.log_prob(x), rtol=1e-12)
  assert not dist.is_exact
  assert sorted(dist.sample(seed=(1, 1)).shape) == [3]


def test_is_exact_propagates_through_nesting():
  bound = Augment(2, 2, dtype="float64").distribution(gaussian(COV))
  exact_inner = tfd.TransformedDistribution(tfd.Sample(tfd.Normal(0.0, 1.0), 2), tfb.Softplus())
  assert not is_exact(tfd.TransformedDistribution(bound, tfb.Shift(np.array([1.0, 0.0]))))
  assert not Abs(2, dtype="float64").distribution(bound).is_exact
  assert Abs(2).distribution(exact_inner).is_exact
  assert is_exact(tfd.TransformedDistribution(Abs(2).distribution(exact_inner), tfb.Exp()))


def test_reconstruction_and_kl_with_a_seed_is_log_prob_with_that_seed():
  dist, x, _ = vae_case()
  reconstruction, kl = dist.reconstruction_and_kl(x, seed=(5, 6))
  np.testing.assert_allclose(reconstruction - kl, dist.log_prob(x, seed=(5, 6)), rtol=1e-12)
  other, _ = dist.reconstruction_and_kl(x, seed=(5, 7))
  assert not np.allclose(other, reconstruction)
