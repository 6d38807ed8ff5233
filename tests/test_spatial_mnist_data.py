"""SpatialMNIST: the point-drawing function on real digits and one small build of the tfds builder."""

import numpy as np
import pytest

from tfp_flows.datasets import mnist_files
from tfp_flows.datasets.spatial_mnist import (
  NUM_POINTS, POINTS_SEED, draw_points, load_spatial_mnist, load_spatial_mnist_numpy,
  prepared_builder)


@pytest.fixture(scope="module")
def images(mnist_dir):
  files = mnist_files.verify(mnist_dir)
  return (mnist_files.read_idx(files["train-images-idx3-ubyte"]),
          mnist_files.read_idx(files["t10k-images-idx3-ubyte"]))


def _pixel_values(image, points):
  """Intensity of the pixel under each point (x = col + u, y = 27 - row + v)."""
  cols = np.floor(points[:, 0]).astype(int)
  rows = 27 - np.floor(points[:, 1]).astype(int)
  return image[rows, cols]


def test_points_lie_on_ink_and_follow_intensity(images):
  train, _ = images
  for i in range(5):
    points = draw_points(train[i], np.random.default_rng(i))
    assert points.shape == (NUM_POINTS, 2) and points.dtype == np.float32
    assert points.min() >= 0 and points.max() < 28
    assert np.all(_pixel_values(train[i], points) > 0), f"image {i}: a point on a zero pixel"
  # Frequencies follow intensity: the top half's pixels 1, the bottom half's 3 (no float32 ties
  # among 4,000 points needs many pixels: 2,000 in one pixel would tie).
  image = np.ones((28, 28))
  image[14:] = 3.0
  points = draw_points(image, np.random.default_rng(0), num_points=4000)
  share = np.mean(_pixel_values(image, points) == 3.0)
  assert abs(share - 0.75) < 0.03, share


def test_draw_points_is_deterministic_and_rejects_bad_images():
  image = np.arange(28 * 28, dtype=float).reshape(28, 28)
  a = draw_points(image, np.random.default_rng(7))
  np.testing.assert_array_equal(a, draw_points(image, np.random.default_rng(7)))
  assert not np.array_equal(a, draw_points(image, np.random.default_rng(8)))
  for bad, match in ((np.zeros((28, 28)), "not all zero"), (np.ones(784), "2-D"),
                     (-image, "non-negative")):
    with pytest.raises(ValueError, match=match):
      draw_points(bad, np.random.default_rng(0))
  with pytest.raises(ValueError, match="num_points must be >= 1, got 0"):
    draw_points(image, np.random.default_rng(0), num_points=0)


def _ties(points):
  """Number of equal neighbours in each sorted coordinate of `[N, 2]` points."""
  return int((np.diff(np.sort(points, axis=0), axis=0) == 0).sum())


def test_no_set_ties_a_coordinate(images):
  """Train images 1294 and 6715 (x) and 8035 (y) drew tied float32 values with the builder's seeds
  before the jitter was redrawn on ties (SortFlow's loss was NaN); image 0 never tied."""
  train, _ = images
  first_draw = np.random.default_rng([POINTS_SEED, 0, 0])
  for i in (0, 1294, 6715, 8035):
    points = draw_points(train[i], np.random.default_rng([POINTS_SEED, 0, i]))
    assert _ties(points) == 0, f"train image {i}: tied coordinates"
  # A set without ties keeps its first draw (pixels, then one U(0, 1) jitter per coordinate).
  pixels = first_draw.choice(784, size=NUM_POINTS, p=train[0].ravel() / train[0].sum())
  rows, cols = np.divmod(pixels, 28)
  expected = (np.stack([cols, 27 - rows], -1) + first_draw.uniform(size=(NUM_POINTS, 2)))
  np.testing.assert_array_equal(draw_points(train[0], np.random.default_rng([POINTS_SEED, 0, 0])),
                                expected.astype(np.float32))
  # 2,000 points on one pixel: float32 ties are near certain in one draw (~8 expected).
  image = np.zeros((28, 28))
  image[0, 27] = 1.0
  with pytest.raises(ValueError, match="1 jitter draws of 2000 points all tied a coordinate"):
    draw_points(image, np.random.default_rng(0), num_points=2000, max_draws=1)
  with pytest.raises(ValueError, match="max_draws must be >= 1, got 0"):
    draw_points(image, np.random.default_rng(0), max_draws=0)


def test_builder_splits_match_the_seeded_draws(mnist_dir, images, tmp_path):
  train, test = images
  builder = prepared_builder(str(tmp_path), mnist_dir, max_examples_per_split=6)
  assert builder.info.features["points"].shape == (NUM_POINTS, 2)
  for split, (stream, offset, source) in {"train": (0, 0, train),
                                          "validation": (0, 50_000, train),
                                          "test": (1, 0, test)}.items():
    points, labels = load_spatial_mnist_numpy(split, data_dir=str(tmp_path))
    assert points.shape == (6, NUM_POINTS, 2) and points.dtype == np.float32
    assert labels.shape == (6,) and labels.max() <= 9
    for i in range(6):
      expected = draw_points(source[offset + i],
                             np.random.default_rng([POINTS_SEED, stream, offset + i]))
      np.testing.assert_array_equal(points[i], expected, err_msg=f"{split}[{i}]")
  batch = next(iter(load_spatial_mnist("test", batch_size=4, data_dir=str(tmp_path))))
  assert batch.shape == (4, NUM_POINTS, 2)
  with pytest.raises(ValueError, match="split must be one of .* got 'tests'"):
    load_spatial_mnist("tests", data_dir=str(tmp_path))
  with pytest.raises(ValueError, match="batch_size must be an integer >= 1 or None, got 0"):
    load_spatial_mnist("test", batch_size=0, data_dir=str(tmp_path))
