"""2-D toy datasets: shapes, determinism, the properties the SurVAE study relies on, the tfds builder."""
import numpy as np
import pytest

from tfp_flows.datasets.toy2d import DATASETS, NUM_LABELS, load_toy2d, toy2d


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_shapes_determinism_and_range(name):
  x = toy2d(name, 2000, seed=3)
  assert x.shape == (2000, 2) and x.dtype == np.float32
  np.testing.assert_array_equal(x, toy2d(name, 2000, seed=3))
  assert not np.array_equal(x, toy2d(name, 2000, seed=4))
  assert np.all(np.abs(x) < 5.5)


def test_sign_properties_used_by_the_abs_study():
  for name in ("ngon", "corners", "circles", "checkerboard"):  # symmetric about both axes
    x = toy2d(name)
    np.testing.assert_allclose((x > 0).mean(0), [0.5, 0.5], atol=0.02)
    np.testing.assert_allclose(np.abs(x).mean(0), np.abs(x).mean(0)[::-1], atol=0.1)
  np.testing.assert_allclose((toy2d("skewed") > 0).mean(0), [0.75, 0.5], atol=0.015)
  np.testing.assert_allclose(toy2d("offset").mean(0), [1.0, 0.5], atol=0.05)
  np.testing.assert_allclose(np.linalg.norm(toy2d("circle"), axis=1), 4.0, rtol=1e-6)


def test_unknown_name_raises():
  with pytest.raises(ValueError, match="unknown toy dataset 'square'"):
    toy2d("square")


def test_tfds_builder_matches_generator(tmp_path):
  test = load_toy2d("two_moons", "test", data_dir=str(tmp_path))
  assert test.shape == (10000, 2)
  np.testing.assert_array_equal(test, toy2d("two_moons", seed=1))
  x, label = load_toy2d("two_moons", "test", data_dir=str(tmp_path), labels=True)
  expected_x, expected_label = toy2d("two_moons", seed=1, labels=True)
  np.testing.assert_array_equal(x, expected_x)
  np.testing.assert_array_equal(label, expected_label)


def test_labels_name_the_components_and_leave_the_points_unchanged():
  for name in sorted(DATASETS):
    x, label = toy2d(name, 2000, seed=3, labels=True)
    np.testing.assert_array_equal(x, toy2d(name, 2000, seed=3))
    assert label.dtype == np.int64 and label.shape == (2000,)
    assert set(np.unique(label)) == set(range(NUM_LABELS[name])), name  # every class occurs
  x, label = toy2d("corners", labels=True)
  np.testing.assert_array_equal(label, (x[:, 0] > 0) + 2 * (x[:, 1] > 0))  # the quadrant
  x, label = toy2d("circles", labels=True)
  np.testing.assert_array_less(np.abs(np.linalg.norm(x, axis=1) - 1 - label), 0.5)  # radius
  x, label = toy2d("ngon", labels=True)
  angle = np.arctan2(x[:, 1], x[:, 0]) % (2 * np.pi)
  assert np.mean(np.floor(angle / (np.pi / 4)) == label) > 0.95  # the octant of its Gaussian
  x, label = toy2d("checkerboard", labels=True)
  cells = 8 * (np.floor(x[:, 1]) + 4) + np.floor(x[:, 0]) + 4
  assert len(np.unique(cells)) == 32
  for k in range(32):  # one label per filled unit cell
    assert len(np.unique(cells[label == k])) == 1
