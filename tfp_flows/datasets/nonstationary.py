"""Nonstationary (piecewise-stationary) sources mixed by a random MLP.

The synthetic nonlinear-ICA data of the iFlow vs iVAE identifiability study
(Li, Hooi & Lee 2019, "Identifying through Flows for Recovering Latent
Representations", arXiv:1909.12555, experiments on synthetic data; Khemakhem et
al. 2020, "Variational Autoencoders and Nonlinear ICA: A Unifying Framework",
experiments on simulated data). The random draws follow the study's reference
generator, ``generate_data`` in ``lib/data.py`` of github.com/MathsShen/iFlow,
draw for draw, so that seed ``s`` here is seed ``s`` of the published study (its
``-x 1000_40_5_5_3_<s>_gauss_xtanh_u_f`` runs).
"""

import numpy as np

from tfp_flows.checks import check_bool, check_choice, check_finite, check_int, check_positive

ACTIVATIONS = ("xtanh", "lrelu", "sigmoid", "none")
SETTINGS = {
  # Study setting (arXiv:1909.12555): L=1000, M=40, n=5, 3 layers.
  "study": dict(n_per_segment=1000, n_segments=40, dim=5, n_layers=3),
  # 2-D visualisation setting (arXiv:1909.12555): L=1000, M=5, n=2, 3 layers.
  "visual": dict(n_per_segment=1000, n_segments=5, dim=2, n_layers=3),
}
SEED_MAX = 2**32 - 1  # NumPy's RandomState seeds are 32-bit
_N_COND_DRAWS = 10_000
_COND_PERCENTILE = 25


def _normalise_columns(a):
  """Divides each column of `a` [..., n, n] float32 by its L2 norm.

  The sums of squares run over contiguous rows of the transpose, which makes
  them bitwise equal to the reference's ``(A[:, i] ** 2).sum()`` for every n
  (a plain ``sum(axis=-2)`` differs in the last bit from n = 8 on).
  """
  norms = np.sqrt((np.ascontiguousarray(np.swapaxes(a, -1, -2)) ** 2).sum(axis=-1))
  return a / norms[..., None, :]


def _cond_threshold(rs, dim, n_draws=_N_COND_DRAWS):
  """25th percentile of cond(A) over `n_draws` column-normalised U(-1, 1) matrices.

  One ``rs.uniform(-1, 1, (n_draws, dim, dim))`` call consumes the stream
  exactly like the reference's `n_draws` calls of shape (dim, dim), and the
  batched column norms and condition numbers are bitwise equal to the loop's.
  """
  a = _normalise_columns(rs.uniform(-1, 1, (n_draws, dim, dim)).astype(np.float32))
  return np.percentile(np.linalg.cond(a), _COND_PERCENTILE)


def _mixing_matrix(rs, dim):
  """Draws one well-conditioned mixing matrix, as the reference does.

  Args:
    rs: `numpy.random.RandomState`, advanced in place.
    dim: Matrix size n.

  Returns:
    `(a, threshold)`: `a` [n, n] float32 with unit-norm columns and
    ``cond(a) <= threshold``; `threshold` is this matrix's own
    25th-percentile condition number over 10,000 random draws.
  """
  threshold = _cond_threshold(rs, dim)

  def draw():
    return _normalise_columns((rs.uniform(0, 2, (dim, dim)) - 1).astype(np.float32))

  a = draw()
  while np.linalg.cond(a) > threshold:
    a = draw()
  return a, threshold


def _activation_fn(activation, slope):
  if activation == "xtanh":
    return lambda v: np.tanh(v) + slope * v
  if activation == "lrelu":
    # The reference's np.vectorize works on Python floats, i.e. in float64.
    return lambda v: np.where(v > 0, v, v.astype(np.float64) * slope).astype(np.float32)
  if activation == "sigmoid":
    return lambda v: 1 / (1 + np.exp(-v))
  return lambda v: v


def nonstationary_sources(
  n_per_segment, n_segments, dim, n_layers=3, seed=1, activation="xtanh", slope=0.1, uncentered=True
):
  """Draws Gaussian piecewise-stationary sources and mixes them with a random MLP.

  Segment k (rows ``k*L ... (k+1)*L - 1``) has sources
  ``s ~ N(means[k], diag(stds[k]**2))``; observations are
  ``x = A_l( h( ... h(A_1 s)))`` with unit-column-norm, well-conditioned random
  matrices and no nonlinearity after the last layer. With
  ``rs = numpy.random.RandomState(seed)`` the draws are, in order:
  ``stds = rs.uniform(0.5, 3, (M, n))``; if `uncentered`,
  ``means = rs.uniform(-5, 5, (M, n))``; ``rs.randn(N, n)`` as float32; then per
  layer a condition-number threshold (25th percentile of cond over 10,000
  column-normalised ``rs.uniform(-1, 1, (n, n))`` float32 draws) followed by
  ``rs.uniform(0, 2, (n, n)) - 1`` redrawn until its cond is below the threshold.

  Source: Li, Hooi & Lee 2019 (arXiv:1909.12555), synthetic data; reference code
  MathsShen/iFlow ``lib/data.py`` (``generate_data`` with ``prior='gauss'``,
  ``d_data = d_sources``, ``noisy=0``). Differences from that code, none of which
  changes a draw: ``n_layers=1`` is allowed (``x = s @ A1``, as in ilkhem/iVAE
  ``data/data.py``; iFlow asserts ``n_layers > 1``); a local `RandomState`
  replaces the global ``np.random.seed`` (same stream). Note that ilkhem/iVAE's
  ``SyntheticDataset`` reuses one matrix for every layer (``repeat_linearity``);
  the iFlow study, followed here, draws a fresh matrix per layer. "sigmoid" is
  offered because the reference offers it; "lrelu" is computed in float64 and
  cast to float32, like the reference's ``np.vectorize`` version.

  Args:
    n_per_segment: L, points per segment (positive int).
    n_segments: M, number of segments (positive int).
    dim: n, dimension of sources and observations (positive int).
    n_layers: Number of mixing layers (positive int).
    seed: `RandomState` seed, an int in 0 .. 2**32 - 1.
    activation: One of "xtanh" (``tanh(v) + slope * v``), "lrelu" (leaky ReLU
      with negative slope `slope`), "sigmoid", "none" (linear mixing).
    slope: Slope of "xtanh" / "lrelu"; a finite float, > 0 for "lrelu".
    uncentered: Whether segment means are drawn from U(-5, 5) (else zero).

  Returns:
    Dict of float32 NumPy arrays, N = L * M: ``x`` [N, dim] observations,
    ``s`` [N, dim] sources, ``u`` [N, n_segments] one-hot segment labels.

  Raises:
    TypeError: For a size or seed that is not an integer, a slope that is not a
      real number, or a non-bool `uncentered`.
    ValueError: For a size < 1, a seed outside 0 .. 2**32 - 1, an unknown
      activation, a non-finite slope (or one <= 0 with "lrelu").
  """
  owner = "nonstationary_sources"
  n_per_segment = check_int(owner, "n_per_segment", n_per_segment)
  n_segments = check_int(owner, "n_segments", n_segments)
  dim = check_int(owner, "dim", dim)
  n_layers = check_int(owner, "n_layers", n_layers)
  seed = check_int(owner, "seed", seed, minimum=0, maximum=SEED_MAX)
  activation = check_choice(owner, "activation", activation, ACTIVATIONS)
  # A Python float keeps `slope * v` in float32; "lrelu" needs a positive slope.
  slope = (check_positive if activation == "lrelu" else check_finite)(owner, "slope", slope)
  uncentered = check_bool(owner, "uncentered", uncentered)

  rs = np.random.RandomState(seed)
  n_total = n_per_segment * n_segments
  stds = rs.uniform(0.5, 3, (n_segments, dim))
  if uncentered:
    means = rs.uniform(-5, 5, (n_segments, dim))
  else:
    means = np.zeros((n_segments, dim))
  s = rs.randn(n_total, dim).astype(np.float32)
  segments = s.reshape(n_segments, n_per_segment, dim)  # a view of s
  segments *= stds[:, None, :]
  segments += means[:, None, :]

  h = _activation_fn(activation, slope)
  x = s
  for layer in range(n_layers):
    a, _ = _mixing_matrix(rs, dim)
    x = x @ a if layer == n_layers - 1 else h(x @ a)

  u = np.repeat(np.eye(n_segments, dtype=np.float32), n_per_segment, axis=0)
  return {"x": x, "s": s, "u": u}
