"""Posterior calibration: simulation-based calibration ranks and expected coverage.

Simulation-based calibration (SBC; Talts et al. 2018, "Validating Bayesian
Inference Algorithms with Simulation-Based Calibration", Algorithm 1): for
theta* ~ prior, x ~ simulator(theta*) and L posterior draws given x, the rank
of theta* among the draws is uniform on {0, ..., L} iff the posterior is
calibrated (on average over the prior). Expected coverage: the fraction of
theta* inside the central credible interval of level alpha, which is alpha for
a calibrated posterior.
"""
import numpy as np
from scipy import stats


def _check(samples, truths):
  samples, truths = np.asarray(samples, float), np.asarray(truths, float)
  if samples.ndim != 3 or truths.shape != (samples.shape[0], samples.shape[2]):
    raise ValueError(f"samples: shape {samples.shape} and truths: shape {truths.shape}, "
                     "expected [n, L, P] and [n, P].")
  if not (np.all(np.isfinite(samples)) and np.all(np.isfinite(truths))):
    raise ValueError("samples and truths must be finite (got NaN or inf).")
  return samples, truths


def sbc_ranks(samples, truths):
  """SBC ranks: how many posterior draws fall below the true parameter.

  Args:
    samples: `[n, L, P]` posterior draws for n simulated observations.
    truths: `[n, P]` the parameters that generated them.

  Returns:
    int array `[n, P]` with values in {0, ..., L}.

  Raises:
    ValueError: for mismatched shapes or non-finite values.
  """
  samples, truths = _check(samples, truths)
  return np.sum(samples < truths[:, None, :], axis=1)


def sbc_uniformity(ranks, num_draws, bins=None):
  """Chi-square test of the SBC ranks' uniformity, per parameter.

  Ranks in {0..L} are grouped into `bins` equal-width bins of the rank range
  (Talts et al. 2018, Sec. 4.1) and compared with the uniform expectation by
  `scipy.stats.chisquare`.

  Args:
    ranks: `[n, P]` ranks from `sbc_ranks`.
    num_draws: L, the number of posterior draws per observation.
    bins: number of bins; default `min(20, max(2, n // 10))` (>= ~10 expected
      counts per bin).

  Returns:
    float array `[P]` of p-values (small: not uniform, the posterior is miscalibrated).

  Raises:
    ValueError: for ranks outside {0, ..., L}, fewer than 2 bins or too few ranks.
  """
  ranks = np.asarray(ranks)
  if ranks.ndim != 2 or ranks.min() < 0 or ranks.max() > num_draws:
    raise ValueError(f"ranks: expected an [n, P] array in [0, {num_draws}], got shape "
                     f"{ranks.shape}, range [{ranks.min()}, {ranks.max()}].")
  bins = min(20, max(2, ranks.shape[0] // 10)) if bins is None else int(bins)
  if bins < 2 or bins > num_draws + 1 or ranks.shape[0] < bins:
    raise ValueError(f"bins = {bins}: expected 2 <= bins <= min(L + 1, n) with "
                     f"L = {num_draws}, n = {ranks.shape[0]}.")
  edges = np.linspace(0, num_draws + 1, bins + 1)
  counts = np.stack([np.histogram(r, edges)[0] for r in ranks.T])
  expected = np.diff(edges) / (num_draws + 1) * ranks.shape[0]
  return np.array([stats.chisquare(c, expected).pvalue for c in counts])


def expected_coverage(samples, truths, levels=(0.5, 0.9)):
  """Fraction of true parameters inside the posterior's central credible intervals.

  Args:
    samples: `[n, L, P]` posterior draws.
    truths: `[n, P]`.
    levels: credible levels alpha in (0, 1); the interval is between the
      (1 - alpha) / 2 and (1 + alpha) / 2 quantiles of the draws.

  Returns:
    float array `[len(levels), P]`: the coverage per level and parameter
    (alpha for a calibrated posterior).

  Raises:
    ValueError: for mismatched shapes, non-finite values or levels outside (0, 1).
  """
  samples, truths = _check(samples, truths)
  levels = np.asarray(levels, float)
  if np.any((levels <= 0) | (levels >= 1)):
    raise ValueError(f"levels = {levels.tolist()}: expected values in (0, 1).")
  out = []
  for alpha in levels:
    lo, hi = np.quantile(samples, [(1 - alpha) / 2, (1 + alpha) / 2], axis=1)
    out.append(np.mean((truths >= lo) & (truths <= hi), axis=0))
  return np.array(out)
