"""Tests of the mean correlation coefficient (MCC)."""

import itertools

import numpy as np
import pytest

from tfp_flows.metrics import mean_corr_coef


@pytest.fixture(name="sources")
def fixture_sources():
  return np.random.RandomState(0).randn(3000, 4)


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_permuted_rescaled_sign_flipped_sources_score_one(sources, method):
  z = sources[:, [2, 0, 3, 1]] * np.array([-2.0, 3.0, 0.5, -0.1]) + np.array([1, -2, 3, 40])
  assert mean_corr_coef(z, sources, method) == pytest.approx(1.0, abs=1e-12)
  assert mean_corr_coef(z.astype(np.float32), sources, method) == pytest.approx(1.0, abs=1e-6)


def test_monotone_nonlinear_map_is_one_for_spearman_only(sources):
  z = np.exp(sources[:, ::-1])
  assert mean_corr_coef(z, sources, "spearman") == pytest.approx(1.0, abs=1e-12)
  # corr(exp(g), g) for g ~ N(0, 1) is 1 / sqrt(e - 1) ~ 0.763.
  assert mean_corr_coef(z, sources, "pearson") == pytest.approx(1 / np.sqrt(np.e - 1), abs=0.05)


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_independent_noise_scores_low(method):
  rs = np.random.RandomState(1)
  assert mean_corr_coef(rs.randn(100_000, 5), rs.randn(100_000, 5), method) < 0.1


def test_half_recovered_sources():
  rs = np.random.RandomState(2)
  s = rs.randn(50_000, 2)
  z = np.stack([rs.randn(50_000), -3 * s[:, 0]], axis=1)
  assert mean_corr_coef(z, s) == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_matching_is_the_best_permutation(method):
  rs = np.random.RandomState(3)
  s = rs.randn(2000, 4)
  z = s @ rs.randn(4, 4) + rs.randn(2000, 4)
  ranks = (lambda a: a.argsort(axis=0).argsort(axis=0)) if method == "spearman" else (lambda a: a)
  corr = np.abs(np.corrcoef(ranks(z), ranks(s), rowvar=False)[:4, 4:])
  brute = max(corr[np.arange(4), list(p)].mean() for p in itertools.permutations(range(4)))
  assert mean_corr_coef(z, s, method) == pytest.approx(brute, rel=1e-12)


@pytest.mark.parametrize(
  "z,s,match",
  [
    (np.zeros((10, 2)) + np.arange(2), np.ones((10, 3)), "constant columns"),
    (
      np.random.RandomState(0).randn(10, 2),
      np.random.RandomState(1).randn(10, 3),
      r"same shape \[N, d\], got \(10, 2\) and \(10, 3\)",
    ),
    (
      np.random.RandomState(0).randn(10),
      np.random.RandomState(1).randn(10),
      r"z must be a 2-D array \[N, d\], got shape \(10,\)",
    ),
    (np.array([[1.0, np.nan], [2.0, 3.0]]), np.ones((2, 2)), "z must be finite, got 1 NaN or inf"),
    (
      np.random.RandomState(0).randn(5, 2),
      np.array([[np.inf, 0.0]] * 5),
      "s must be finite, got 5 NaN or inf",
    ),
    (
      np.ones((1, 2)),
      np.ones((1, 2)),
      r"need N >= 2 samples and d >= 1 sources, got shape \(1, 2\)",
    ),
  ],
)
def test_bad_inputs_raise(z, s, match):
  with pytest.raises(ValueError, match=match):
    mean_corr_coef(z, s)


def test_unknown_method_raises(sources):
  with pytest.raises(
    ValueError,
    match=r"method must be one of \('pearson', 'spearman'\), "
    r"got 'kendall'",
  ):
    mean_corr_coef(sources, sources, method="kendall")
