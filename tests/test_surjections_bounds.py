"""Bound layers (augment, dequantization, VAE, stochastic permutation): samples, identities, nesting.

The bound below an independently computed log p(x), tf.function, gradients and save/reload:
tests/test_surjection_conformance.py.
"""
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from scipy import stats

from tfp_flows import layers
from tfp_flows.layers import Abs, Augment
from tfp_flows.metrics.likelihood import log_likelihood
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


def saturated(logit, dtype):
  """VariationalDequantization(2, 8 bits) whose noise logit is `logit` for every x (scale ~1)."""
  layer = layers.VariationalDequantization(2, num_bits=8, hidden=(4,), dtype=dtype)
  for v in layer.noise_net.trainable_variables:
    v.assign(tf.zeros_like(v))
  output_bias = layer.noise_net.net.dense[-1].trainable_variables[-1]
  output_bias.assign(tf.constant([logit, logit, 0.0, 0.0], dtype))
  return layer


X_EDGES = np.array([[255.0, 0.0], [255.0, 255.0], [0.0, 128.0]])


@pytest.mark.parametrize("logit", [17.0, 30.0, 80.0, -30.0])
def test_variational_dequantization_stays_finite_at_extreme_logits(logit):
  """In float32 a plain sigmoid rounds to 1 above a logit of ~17: z hit the cell edge, -inf."""
  layer = saturated(logit, "float32")
  inner = tfd.Sample(tfd.Beta(np.float32(2.0), 2.0), 2)
  log_p = layer.distribution(inner).log_prob(X_EDGES.astype("float32"), seed=(1, 2))
  assert np.all(np.isfinite(log_p)), f"logit {logit}: log_prob {log_p}"
  u = layer.noise(X_EDGES.astype("float32")).sample(200, seed=(3, 4)).numpy()
  z = (X_EDGES + u) / 256
  assert u.min() > 0 and u.max() < 1 and z.max() < 1


def test_variational_dequantization_noise_density_is_the_squeezed_sigmoid_of_a_logistic():
  """float32 log q(u) against the formula in float64: s = (u - delta) / (1 - 2 delta),
  log q(u) = log Logistic(logit s; 3, scale) - log(s (1 - s)) - log(1 - 2 delta) per entry,
  delta = 2^8 x float32 epsilon, up to u = 1 - 1e-4 (the plain sigmoid would be off there by
  delta / (1 - u) = 0.3)."""
  layer = saturated(3.0, "float32")
  delta = 256 * float(np.finfo(np.float32).eps)
  u = np.array([[0.2, 0.9], [0.5, 0.999], [1e-4, 1 - 1e-4]])
  s = (u - delta) / (1 - 2 * delta)
  scale = np.log1p(np.exp(np.log(np.e - 1.0))) + 1e-3  # softplus(0 + log(e - 1)) + min_scale
  t = (np.log(s / (1 - s)) - 3.0) / scale
  expected = (-t - 2 * np.log1p(np.exp(-t)) - np.log(scale) - np.log(s * (1 - s))
              - np.log(1 - 2 * delta)).sum(-1)
  got = layer.noise(X_EDGES.astype("float32")).log_prob(u.astype("float32")).numpy()
  np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-5)
