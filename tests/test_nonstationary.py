"""Tests of the nonstationary-sources generator and its tfds builder."""

import numpy as np
import pytest

from tfp_flows.datasets import load_nonstationary, nonstationary_sources
from tfp_flows.datasets.nonstationary import _cond_threshold, _mixing_matrix, _normalise_columns


def _reference_generate(n_per_seg, n_seg, d, n_layers, seed, activation, slope, uncentered):
  """Loop transcription of MathsShen/iFlow lib/data.py generate_data (gauss prior)."""

  def mixing_matrix():
    conds = []
    for _ in range(10000):
      a = np.random.uniform(-1, 1, (d, d)).astype(np.float32)
      for i in range(d):
        a[:, i] /= np.sqrt((a[:, i] ** 2).sum())
      conds.append(np.linalg.cond(a))
    threshold = np.percentile(conds, 25)
    a = (np.random.uniform(0, 2, (d, d)) - 1).astype(np.float32)
    for i in range(d):
      a[:, i] /= np.sqrt((a[:, i] ** 2).sum())
    while np.linalg.cond(a) > threshold:
      a = (np.random.uniform(0, 2, (d, d)) - 1).astype(np.float32)
      for i in range(d):
        a[:, i] /= np.sqrt((a[:, i] ** 2).sum())
    return a

  leaky = np.vectorize(lambda v, sl: v if v > 0 else v * sl)
  act = {
    "xtanh": lambda v: np.tanh(v) + slope * v,
    "lrelu": lambda v: leaky(v, slope).astype(np.float32),
    "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
    "none": lambda v: v,
  }[activation]
  saved = np.random.get_state()
  try:
    np.random.seed(seed)
    stds = np.random.uniform(0.5, 3, (n_seg, d))
    means = np.random.uniform(-5, 5, (n_seg, d)) if uncentered else np.zeros((n_seg, d))
    labels = np.zeros(n_per_seg * n_seg, dtype=np.float32)
    s = np.random.randn(n_per_seg * n_seg, d).astype(np.float32)
    for seg in range(n_seg):
      rows = range(n_per_seg * seg, n_per_seg * (seg + 1))
      s[rows] *= stds[seg]
      s[rows] += means[seg]
      labels[rows] = seg
    x = act(np.dot(s, mixing_matrix()))
    for layer in range(1, n_layers):
      b = mixing_matrix()
      x = np.dot(x, b) if layer == n_layers - 1 else act(np.dot(x, b))
  finally:
    np.random.set_state(saved)
  u = np.zeros((labels.size, n_seg), dtype=np.float32)
  u[np.arange(labels.size), labels.astype(int)] = 1
  return {"x": x, "s": s, "u": u}


def _drawn_parameters(seed, n_seg, d, uncentered):
  rs = np.random.RandomState(seed)
  stds = rs.uniform(0.5, 3, (n_seg, d))
  means = rs.uniform(-5, 5, (n_seg, d)) if uncentered else np.zeros((n_seg, d))
  return rs, stds, means


def test_shapes_dtypes_finite():
  data = nonstationary_sources(30, 4, 3, seed=2)
  assert set(data) == {"x", "s", "u"}
  for key, width in (("x", 3), ("s", 3), ("u", 4)):
    assert data[key].shape == (120, width)
    assert data[key].dtype == np.float32
    assert np.all(np.isfinite(data[key]))


@pytest.mark.parametrize("uncentered", [True, False])
def test_segment_statistics_match_drawn_parameters(uncentered):
  n_per_seg, n_seg, d, seed = 4000, 4, 3, 5
  data = nonstationary_sources(n_per_seg, n_seg, d, seed=seed, uncentered=uncentered)
  _, stds, means = _drawn_parameters(seed, n_seg, d, uncentered)
  segments = data["s"].reshape(n_seg, n_per_seg, d).astype(np.float64)
  # 5 standard errors: mean error ~ std / sqrt(L), std error ~ std / sqrt(2 L).
  np.testing.assert_allclose(segments.mean(axis=1), means, atol=5 * 3 / np.sqrt(n_per_seg))
  np.testing.assert_allclose(segments.std(axis=1), stds, rtol=5 / np.sqrt(2 * n_per_seg))
  if uncentered:
    assert np.abs(means).max() > 1.0  # the means really are drawn


def test_u_is_one_hot_with_l_rows_per_segment():
  u = nonstationary_sources(7, 5, 2, seed=3)["u"]
  np.testing.assert_array_equal(u.sum(axis=1), np.ones(35))
  assert set(np.unique(u)) == {0.0, 1.0}
  np.testing.assert_array_equal(u.argmax(axis=1), np.repeat(np.arange(5), 7))


@pytest.mark.parametrize("dim", [2, 5])
def test_mixing_matrix_unit_columns_below_threshold(dim):
  a, threshold = _mixing_matrix(np.random.RandomState(11), dim)
  assert a.shape == (dim, dim) and a.dtype == np.float32
  np.testing.assert_allclose(np.linalg.norm(a.astype(np.float64), axis=0), 1.0, atol=1e-6)
  assert 1.0 < np.linalg.cond(a) <= threshold
  # The threshold is the 25th percentile of the same draws taken one by one.
  conds = []
  rs = np.random.RandomState(11)
  for _ in range(10000):
    b = rs.uniform(-1, 1, (dim, dim)).astype(np.float32)
    conds.append(np.linalg.cond(b / np.linalg.norm(b, axis=0)))
  assert threshold == pytest.approx(np.percentile(conds, 25), rel=1e-5)
  assert np.mean(np.array(conds) <= threshold) == pytest.approx(0.25, abs=1e-3)


@pytest.mark.parametrize("dim", [2, 5, 9, 16])
def test_batched_column_normalisation_equals_loop_bitwise(dim):
  # From dim = 8 on, a plain `sum(axis=-2)` rounds differently from the loop.
  batch = np.random.RandomState(dim).uniform(-1, 1, (500, dim, dim)).astype(np.float32)
  looped = batch.copy()
  for a in looped:
    for i in range(dim):
      a[:, i] /= np.sqrt((a[:, i] ** 2).sum())
  np.testing.assert_array_equal(_normalise_columns(batch), looped)


@pytest.mark.parametrize("dim,n_draws", [(5, 10000), (9, 2000)])
def test_vectorised_threshold_equals_loop_bitwise(dim, n_draws):
  loop_rs = np.random.RandomState(7)
  conds = []
  for _ in range(n_draws):
    a = loop_rs.uniform(-1, 1, (dim, dim)).astype(np.float32)
    for i in range(dim):
      a[:, i] /= np.sqrt((a[:, i] ** 2).sum())
    conds.append(np.linalg.cond(a))
  vec_rs = np.random.RandomState(7)
  threshold = _cond_threshold(vec_rs, dim, n_draws)
  assert threshold == np.percentile(conds, 25)
  assert vec_rs.random_sample() == loop_rs.random_sample()  # same stream position


def test_determinism():
  first = nonstationary_sources(50, 3, 3, seed=4)
  again = nonstationary_sources(50, 3, 3, seed=4)
  other = nonstationary_sources(50, 3, 3, seed=5)
  for key in ("x", "s"):
    np.testing.assert_array_equal(first[key], again[key])
    assert not np.allclose(first[key], other[key])


# (n_per_segment, n_segments, dim, n_layers, seed, activation, slope, uncentered): the argument
# order of both `nonstationary_sources` and `_reference_generate`.
@pytest.mark.parametrize("args", [(20, 3, 3, 3, 1, "xtanh", 0.1, True),
                                  (15, 4, 2, 2, 4, "lrelu", 0.2, False),
                                  (10, 2, 4, 2, 0, "sigmoid", 0.1, True)])
def test_matches_reference_transcription_bitwise(args):
  ref = _reference_generate(*args)
  data = nonstationary_sources(*args)
  for key in ("x", "s", "u"):
    assert data[key].dtype == ref[key].dtype
    np.testing.assert_array_equal(data[key], ref[key])


def test_golden_values_seed1():
  # Computed once by `_reference_generate(20, 3, 3, 3, 1, "xtanh", 0.1, True)`.
  data = nonstationary_sources(20, 3, 3, n_layers=3, seed=1)
  golden_x = {
    0: [-0.8988263607025146, 0.503399670124054, -1.3290780782699585],
    29: [1.0713130235671997, -0.4003755450248718, 1.5537985563278198],
    59: [0.9139111042022705, -0.3109991252422333, -0.3389476537704468],
  }
  golden_s = {
    0: [-0.10917894542217255, -1.6916913986206055, 2.4194037914276123],
    29: [-2.078866958618164, 3.3935632705688477, -3.8311970233917236],
    59: [1.6340737342834473, 0.7556358575820923, 1.1381514072418213],
  }
  for row, values in golden_x.items():
    np.testing.assert_allclose(data["x"][row], values, rtol=1e-6)
  for row, values in golden_s.items():
    np.testing.assert_array_equal(data["s"][row], np.float32(values))


def test_one_layer_is_linear_mixing():
  data = nonstationary_sources(25, 2, 3, n_layers=1, seed=9)
  rs, _, _ = _drawn_parameters(9, 2, 3, uncentered=True)
  rs.randn(50, 3)  # the sources' draw
  a, _ = _mixing_matrix(rs, 3)
  np.testing.assert_array_equal(data["x"], data["s"] @ a)


@pytest.mark.parametrize(
  "kwargs,error,match",
  [
    (dict(n_per_segment=0), ValueError, "n_per_segment must be an integer >= 1, got 0"),
    (dict(n_segments=2.0), TypeError, "n_segments must be an integer >= 1, got 2.0"),
    (dict(dim=True), TypeError, "dim must be an integer >= 1, got True"),
    (dict(n_layers=-1), ValueError, "n_layers must be an integer >= 1, got -1"),
    (dict(seed=-3), ValueError, r"seed must be an integer in 0 \.\. 4294967295, got -3"),
    (dict(seed=2**32), ValueError, r"seed must be an integer in 0 \.\. 4294967295, got 4294967296"),
    (dict(activation="relu"), ValueError,
     r"activation must be one of \('xtanh', 'lrelu', 'sigmoid', 'none'\), got 'relu'"),
    (dict(slope=float("nan")), ValueError, "slope must be a finite number, got nan"),
    (dict(activation="lrelu", slope=0.0), ValueError,
     "slope must be a positive finite number, got 0.0"),
    (dict(uncentered="yes"), TypeError, "uncentered must be True or False, got 'yes'"),
  ],
)
def test_bad_arguments_raise(kwargs, error, match):
  args = dict(n_per_segment=5, n_segments=2, dim=2)
  args.update(kwargs)
  with pytest.raises(error, match=f"nonstationary_sources: {match}"):
    nonstationary_sources(**args)


def test_tfds_builder_matches_function(tmp_path):
  import tensorflow_datasets as tfds

  from tfp_flows.datasets import nonstationary_builder

  ds = load_nonstationary("visual", seed=1, data_dir=str(tmp_path))
  got = next(iter(tfds.as_numpy(ds.batch(10**6))))
  want = nonstationary_sources(1000, 5, 2, n_layers=3, seed=1)
  for key in ("x", "s", "u"):
    assert got[key].dtype == np.float32
    np.testing.assert_array_equal(got[key], want[key])
  builder = tfds.builder("nonstationary_sources/visual_seed1", data_dir=str(tmp_path))
  assert builder.info.splits["train"].num_examples == 5000
  assert builder.info.features["u"].shape == (5,)
  custom = nonstationary_builder.make_builder("study", seed=1000, data_dir=str(tmp_path))
  assert custom.builder_config.name == "study_seed1000"
  assert custom.info.features["x"].shape == (5,)
  with pytest.raises(ValueError, match=r"config must be one of \('study', 'visual'\), got 'x'"):
    nonstationary_builder.make_builder("x", seed=1)
  with pytest.raises(TypeError, match=r"make_builder: seed must be an integer in 0 \.\. 4294967295, got 1.5"):
    nonstationary_builder.make_builder("study", seed=1.5)
