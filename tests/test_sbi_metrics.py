"""SBC ranks, coverage and C2ST on cases with known answers."""
import numpy as np
import pytest
from scipy.stats import norm

from tfp_flows.metrics import c2st, expected_coverage, sbc_ranks, sbc_uniformity


def _normal_normal(n, draws, scale_factor, seed=0):
  """theta ~ N(0, 1), x ~ N(theta, 1): the posterior is N(x / 2, 1 / 2); scale_factor != 1 miscalibrates it."""
  rng = np.random.default_rng(seed)
  theta = rng.normal(size=(n, 1))
  x = theta + rng.normal(size=(n, 1))
  post = x[:, None, :] / 2 + scale_factor * np.sqrt(0.5) * rng.normal(size=(n, draws, 1))
  return post, theta


def test_calibrated_posterior_has_uniform_ranks_and_nominal_coverage():
  post, theta = _normal_normal(2000, 99, 1.0)
  ranks = sbc_ranks(post, theta)
  assert ranks.shape == (2000, 1) and ranks.min() >= 0 and ranks.max() <= 99
  assert sbc_uniformity(ranks, 99)[0] > 0.01
  np.testing.assert_allclose(expected_coverage(post, theta)[:, 0], [0.5, 0.9], atol=0.04)


def test_overconfident_posterior_fails_sbc_and_undercovers():
  post, theta = _normal_normal(2000, 99, 0.5)
  assert sbc_uniformity(sbc_ranks(post, theta), 99)[0] < 1e-6
  # half the width: coverage of the central 90% interval is P(|Z| < 1.645 / 2).
  expected = 2 * norm.cdf(norm.ppf(0.95) / 2) - 1
  assert abs(expected_coverage(post, theta, levels=[0.9])[0, 0] - expected) < 0.04


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 100 epochs: speed
def test_c2st_known_accuracies():
  rng = np.random.default_rng(1)
  a, b = rng.normal(size=(400, 2)), rng.normal(size=(400, 2))
  assert abs(c2st(a, b, folds=3, max_iter=100) - 0.5) < 0.06
  far = rng.normal(size=(400, 2)) + [4.0, 0.0]
  assert c2st(a, far, folds=3, max_iter=100) > 0.95
  # shift 1 in one dimension: the Bayes accuracy is Phi(1 / 2) = 0.69.
  shifted = rng.normal(size=(400, 2)) + [1.0, 0.0]
  assert abs(c2st(a, shifted, folds=3, max_iter=100) - norm.cdf(0.5)) < 0.06


def test_bad_input():
  with pytest.raises(ValueError, match="samples"):
    sbc_ranks(np.zeros((5, 10)), np.zeros((5, 1)))
  with pytest.raises(ValueError, match="finite"):
    expected_coverage(np.full((5, 10, 1), np.nan), np.zeros((5, 1)))
  with pytest.raises(ValueError, match="levels"):
    expected_coverage(np.zeros((5, 10, 1)), np.zeros((5, 1)), levels=[1.5])
  with pytest.raises(ValueError, match="ranks"):
    sbc_uniformity(np.full((50, 1), 11), 10)
  with pytest.raises(ValueError, match="x: shape"):
    c2st(np.zeros((10, 2)), np.zeros((10, 3)))
  with pytest.raises(ValueError, match="folds"):
    c2st(np.zeros((3, 2)), np.zeros((10, 2)))
