"""SpatialMNIST (Edwards & Storkey 2017) as a tfds builder made offline from the local MNIST IDX files.

Importing this module registers the tfds dataset ``spatial_mnist``. Each example is one MNIST
digit as a set of `NUM_POINTS` = 50 points in the plane: pixels drawn with replacement with
probability proportional to their intensity, each point its pixel's coordinates plus U(0, 1)
jitter (Edwards & Storkey 2017, "Towards a Neural Statistician", ICLR, Sec. 5.2). Coordinates:
``x = column + u``, ``y = 27 - row + v`` with u, v ~ U(0, 1), so x, y lie in [0, 28) and a scatter
plot shows the digit upright. No two points of a set share an x or a y value: the jitter is
continuous, so ties have probability zero, but float32 rounding (steps of 2**-20 to 2**-19 in
[8, 28)) tied a coordinate in 24 of the 70,000 sets of version 1.0.0; such sets get their
jitter drawn again (rejection, i.e. the jittered points conditioned on the probability-one event
"no ties"), as SortFlow's sort by a coordinate needs distinct values. Features: ``points``
float32 `[50, 2]` (x, y) and ``label`` ClassLabel(10). Splits as `mnist_idx`: "train" the first
50,000 training images, "validation" the last 10,000, "test" the 10,000 t10k images, in file
order. The points of image i of the MNIST file s (0: train, 1: t10k) come from
``np.random.default_rng([POINTS_SEED, s, i])``, so every example is fixed whatever part of a
split is built. Built from the four IDX files of `mnist_files` in tfds' manual directory
(``tfp-flows data mnist``), verified first.
"""

from typing import ClassVar

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from tfp_flows.checks import check_choice, check_int
from tfp_flows.datasets import mnist_files
from tfp_flows.datasets.code_path import LocalCodePath
from tfp_flows.datasets.mnist import SPLITS, _INSTRUCTIONS

NUM_POINTS = 50
POINTS_SEED = 0
EXTENT = 28.0  # coordinates lie in [0, EXTENT)
MAX_JITTER_DRAWS = 100


def draw_points(image, rng, num_points=NUM_POINTS, max_draws=MAX_JITTER_DRAWS):
  """Points of one image: intensity-weighted pixels (with replacement) plus U(0, 1) jitter.

  The jitter is drawn again while the float32 points tie a coordinate (two equal x or two
  equal y values), so the points are distinct in each coordinate, as continuous data is almost
  surely; the first draw is kept whenever it has no tie.

  Args:
    image: `[28, 28]` (or `[H, W]`) non-negative intensities, not all zero.
    rng: `np.random.Generator`.
    num_points: N >= 1.
    max_draws: jitter draws allowed before giving up, >= 1.

  Returns:
    float32 `[N, 2]`: x = column + u, y = (H - 1 - row) + v, u, v ~ U(0, 1), with no two
    equal values in a column.

  Raises:
    ValueError: for an image that is not 2-D, has negative or non-finite values or is all zero,
      for `num_points < 1`, or if `max_draws` jitter draws all tie a coordinate (too many
      points for the float32 values in the image's inked pixels).
  """
  image = np.asarray(image, np.float64)
  if image.ndim != 2:
    raise ValueError(f"image must be 2-D [H, W], got shape {image.shape}.")
  if not np.all(np.isfinite(image)) or image.min() < 0 or image.sum() <= 0:
    raise ValueError("image must hold finite non-negative intensities, not all zero.")
  if int(num_points) < 1:
    raise ValueError(f"num_points must be >= 1, got {num_points!r}.")
  if int(max_draws) < 1:
    raise ValueError(f"max_draws must be >= 1, got {max_draws!r}.")
  height, width = image.shape
  flat = image.ravel()
  pixels = rng.choice(flat.size, size=int(num_points), p=flat / flat.sum())
  rows, cols = np.divmod(pixels, width)
  corner = np.stack([cols, height - 1 - rows], axis=-1)
  for _ in range(int(max_draws)):
    points = (corner + rng.uniform(size=corner.shape)).astype(np.float32)
    if np.all(np.diff(np.sort(points, axis=0), axis=0) > 0):
      return points
  raise ValueError(f"{max_draws} jitter draws of {num_points} points all tied a coordinate in "
                   f"float32; use fewer points.")


class SpatialMnist(LocalCodePath, tfds.core.GeneratorBasedBuilder):
  """SpatialMNIST: `[50, 2]` float32 point sets with digit labels, splits of `SPLITS`."""

  name = "spatial_mnist"
  VERSION = tfds.core.Version("1.1.0")
  RELEASE_NOTES: ClassVar[dict] = {
    "1.0.0": "Initial release.",
    "1.1.0": "No tied coordinates: jitter drawn again for the sets whose float32 points tied "
             "an x or a y value (24 of 70,000 sets; all other sets unchanged).",
  }
  MANUAL_DOWNLOAD_INSTRUCTIONS = _INSTRUCTIONS

  def _info(self):
    return tfds.core.DatasetInfo(
      builder=self,
      description=__doc__.split("\n\n")[1],
      features=tfds.features.FeaturesDict(
        {
          "points": tfds.features.Tensor(
            shape=(NUM_POINTS, 2), dtype=np.float32, encoding=tfds.features.Encoding.BYTES
          ),
          "label": tfds.features.ClassLabel(num_classes=10),
        }
      ),
      homepage="https://arxiv.org/abs/1606.02185",
      disable_shuffling=True,
    )

  def _split_generators(self, dl_manager):
    (train, train_labels), (test, test_labels) = mnist_files.read_verified(dl_manager.manual_dir)
    n = SPLITS["train"]
    return {
      "train": self._generate_examples(train, train_labels, 0, range(n)),
      "validation": self._generate_examples(train, train_labels, 0, range(n, len(train))),
      "test": self._generate_examples(test, test_labels, 1, range(len(test))),
    }

  def _generate_examples(self, images, labels, stream, indices):
    for i in indices:
      rng = np.random.default_rng([POINTS_SEED, stream, i])
      yield int(i), {"points": draw_points(images[i], rng), "label": int(labels[i])}


def prepared_builder(data_dir=None, mnist_dir=None, max_examples_per_split=None):
  """The `spatial_mnist` builder, built from the IDX files first if it is not prepared.

  Args:
    data_dir: tfds data directory (None: the tfds default).
    mnist_dir: directory of the IDX files (None: `mnist_files.default_dir()`).
    max_examples_per_split: build only the first examples of each split (tests); None: all.

  Raises:
    FileNotFoundError / ValueError: as `mnist_files.verify`, if the files are missing or invalid.
  """
  builder = SpatialMnist(data_dir=data_dir)
  if not builder.is_prepared():
    manual_dir = mnist_dir or mnist_files.default_dir()
    mnist_files.verify(manual_dir)  # Our messages before tfds' own manual-dir checks.
    builder.download_and_prepare(
      download_config=tfds.download.DownloadConfig(
        manual_dir=manual_dir, max_examples_per_split=max_examples_per_split
      )
    )
  return builder


def load_spatial_mnist(split, batch_size=None, shuffle=False, seed=0, data_dir=None, mnist_dir=None,
                       with_labels=False):
  """SpatialMNIST point sets as a `tf.data.Dataset`, preparing `spatial_mnist` once.

  Args:
    split: "train" (50,000), "validation" (10,000) or "test" (10,000).
    batch_size: None for single sets `[50, 2]`, else batches `[batch_size, 50, 2]`.
    shuffle: shuffle the whole split, anew each iteration (`seed`).
    seed: int seed of the shuffle.
    data_dir: tfds data directory (None: the tfds default).
    mnist_dir: directory of the IDX files used to build the dataset the first time.
    with_labels: yield `(points, label)` pairs (label int64) instead of points alone.

  Returns:
    `tf.data.Dataset` of float32 points in [0, 28) (x, y), with int64 labels if asked.

  Raises:
    TypeError: for a batch_size that is not an integer (nor None).
    ValueError: for an unknown split or a batch_size < 1; invalid IDX files.
    FileNotFoundError: if the dataset is not prepared and the IDX files are missing.

  Example:
    >>> points = next(iter(load_spatial_mnist("test", batch_size=25)))  # [25, 50, 2]
  """
  check_choice("load_spatial_mnist", "split", split, tuple(SPLITS))
  check_int("load_spatial_mnist", "batch_size", batch_size, optional=True)
  builder = prepared_builder(data_dir, mnist_dir)
  data = builder.as_dataset(split=split)
  data = data.map((lambda ex: (ex["points"], ex["label"])) if with_labels
                  else (lambda ex: ex["points"]), tf.data.AUTOTUNE).cache()
  if shuffle:
    data = data.shuffle(SPLITS[split], seed=seed, reshuffle_each_iteration=True)
  if batch_size is not None:
    data = data.batch(batch_size)
  return data.prefetch(tf.data.AUTOTUNE)


def load_spatial_mnist_numpy(split, data_dir=None, mnist_dir=None):
  """A whole split as NumPy: `(points [M, 50, 2] float32, labels [M] int64)`; M as built.

  Args and errors as in `load_spatial_mnist`.
  """
  data = load_spatial_mnist(split, batch_size=SPLITS[split], data_dir=data_dir,
                            mnist_dir=mnist_dir, with_labels=True)
  points, labels = next(iter(data))
  return points.numpy(), labels.numpy()
