"""Mean correlation coefficient (MCC) between recovered and true sources."""

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.stats import rankdata

from tfp_flows.checks import check_choice

METHODS = ("pearson", "spearman")


def _as_samples(name, value):
  array = np.asarray(value, dtype=np.float64)
  if array.ndim != 2:
    raise ValueError(f"{name} must be a 2-D array [N, d], got shape {array.shape}")
  if not np.all(np.isfinite(array)):
    raise ValueError(
      f"{name} must be finite, got {np.count_nonzero(~np.isfinite(array))} NaN or inf entries"
    )
  constant = np.flatnonzero(np.all(array == array[:1], axis=0))
  if array.shape[0] >= 2 and constant.size:
    raise ValueError(
      f"{name} has constant columns {constant.tolist()}: their correlation is undefined"
    )
  return array


def match_sources(z, s, method="pearson"):
  """Best one-to-one matching of recovered to true sources by absolute correlation.

  The matching behind `mean_corr_coef`, for plots and per-source reports.

  Args:
    z: Recovered sources, array-like [N, d].
    s: True sources, array-like [N, d].
    method: "pearson" or "spearman".

  Returns:
    `(z_index, s_index, corr)`: three [d] arrays; recovered source
    `z_index[k]` is matched to true source `s_index[k]` with signed
    correlation `corr[k]`.

  Raises:
    ValueError: as `mean_corr_coef`.
  """
  check_choice("match_sources", "method", method, METHODS)
  z = _as_samples("z", z)
  s = _as_samples("s", s)
  if z.shape != s.shape:
    raise ValueError(f"z and s must have the same shape [N, d], got {z.shape} and {s.shape}")
  n_samples, dim = z.shape
  if n_samples < 2 or dim < 1:
    raise ValueError(f"need N >= 2 samples and d >= 1 sources, got shape {z.shape}")
  if method == "spearman":
    z = rankdata(z, axis=0)
    s = rankdata(s, axis=0)
  corr = np.corrcoef(z, s, rowvar=False)[:dim, dim:]
  rows, cols = linear_sum_assignment(np.abs(corr), maximize=True)
  return rows, cols, corr[rows, cols]


def mean_corr_coef(z, s, method="pearson"):
  """Mean absolute correlation between sources under the best one-to-one matching.

  Takes the cross-correlation block ``C[i, j] = |corr(z[:, i], s[:, j])|`` of the
  2d x 2d correlation matrix of ``[z, s]``, finds the permutation that
  maximises the sum of matched entries (``scipy.optimize.linear_sum_assignment``)
  and returns the mean of those d entries. It is 1 exactly when each recovered
  source is an affine function of a distinct true source ("pearson"), or a
  strictly monotone one ("spearman"), whatever the order, scale and sign.

  Source: Khemakhem et al. 2020 (iVAE, arXiv:1907.04809), experiments, and
  Li, Hooi & Lee 2019 (iFlow, arXiv:1909.12555), experiments; reference code
  ``mean_corr_coef_np`` in ``lib/metrics.py`` of MathsShen/iFlow.

  Args:
    z: Recovered sources, array-like [N, d].
    s: True sources, array-like [N, d].
    method: "pearson" (linear correlation) or "spearman" (Pearson correlation
      of ranks, ties given average ranks, as `scipy.stats.spearmanr`).

  Returns:
    MCC as a Python float in [0, 1].

  Raises:
    ValueError: If `method` is unknown; if `z` or `s` is not 2-D, contains
      NaN or inf, or has a constant column; if their shapes differ; or if
      N < 2.
  """
  return float(np.abs(match_sources(z, s, method)[2]).mean())
