"""2-D toy datasets of the SurVAE Flows toy experiments, and their tfds builder (imports tfds).

Importing this module registers the tfds dataset ``toy2d`` with one config per
dataset in `DATASETS`; each has "train" and "test" splits of 10,000 float32
points ``x`` [2] with an integer ``label`` (the mixture component a point was
drawn from, `NUM_LABELS[name]` classes; 1 for sets without components), drawn
with fixed seeds (train: seed 0, test: seed 1) by `toy2d`. Generation is offline. Sources: Nielsen et al. 2020 (SurVAE Flows,
arXiv:2007.02731, Sec. 5.1 and the reference `experiments/toy` code: corners,
eight Gaussians); Grathwohl et al. 2019 (FFJORD toy data: checkerboard, two
spirals); two moons as in scikit-learn. Every set lies mostly in [-4, 4]^2.
"""

import dataclasses

import numpy as np
import tensorflow_datasets as tfds

from tfp_flows.datasets.code_path import LocalCodePath

NUM_POINTS = 10_000


def _ngon(rng, n, sides=8, radius=2.83, std=0.35):
  """Eight Gaussians on a circle; label: which Gaussian."""
  label = rng.integers(sides, size=n)
  angle = np.pi / sides + 2 * np.pi / sides * label
  x = radius * np.stack([np.cos(angle), np.sin(angle)], -1) + std * rng.normal(size=(n, 2))
  return x, label


def _corners(rng, n):
  """L-shaped corners in the four quadrants; label: which corner (quadrant)."""
  side = rng.integers(2, size=n)  # 0: horizontal bar, 1: vertical bar of an L-shaped corner
  long_, short = 1 + 3 * rng.uniform(size=n), 1 + rng.uniform(size=n)
  x = np.where(side == 0, short, long_)
  y = np.where(side == 0, long_, short)
  signs = rng.choice([-1.0, 1.0], size=(n, 2))
  return signs * np.stack([x, y], -1), _quadrant(signs)


def _quadrant(signs):
  """0-3: which quadrant a point of signs `[N, 2]` lies in (bit 0: x > 0, bit 1: y > 0)."""
  return (signs[:, 0] > 0) + 2 * (signs[:, 1] > 0)


def _circles(rng, n, radii=(1.0, 2.0, 3.0), std=0.08):
  """Three noisy concentric circles; label: which circle."""
  label = rng.integers(len(radii), size=n)
  r, angle = np.asarray(radii)[label], 2 * np.pi * rng.uniform(size=n)
  x = r[:, None] * np.stack([np.cos(angle), np.sin(angle)], -1) + std * rng.normal(size=(n, 2))
  return x, label


def _checkerboard(rng, n):
  """Unit cells on [-4, 4]^2 filled where floor|x| + floor|y| is even; label: which of the 32 cells.

  Mirror-symmetric in both axes. Cells are numbered in row-major order of (floor y, floor x).
  """
  out = np.empty((0, 2))
  while len(out) < n:
    p = rng.uniform(-4, 4, size=(2 * n, 2))
    keep = (np.floor(np.abs(p[:, 0])) + np.floor(np.abs(p[:, 1]))) % 2 == 0
    out = np.concatenate([out, p[keep]])
  cell = 8 * (np.floor(out[:n, 1]) + 4) + np.floor(out[:n, 0]) + 4  # 0-63, row-major
  return out[:n], np.searchsorted(_FILLED_CELLS, cell)


_FILLED_CELLS = np.array(
  [
    8 * (j + 4) + i + 4
    for j in range(-4, 4)
    for i in range(-4, 4)
    if (np.floor(abs(i + 0.5)) + np.floor(abs(j + 0.5))) % 2 == 0
  ]
)


def _double_spiral(rng, n):
  """Two spiral arms; label: which arm."""
  t = np.sqrt(rng.uniform(size=n)) * 3 * np.pi
  arm = np.stack([-np.cos(t) * t, np.sin(t) * t], -1) / 2.6
  sign = rng.choice([-1.0, 1.0], size=(n, 1))
  return sign * arm + 0.1 * rng.normal(size=(n, 2)), (sign[:, 0] > 0).astype(int)


def _two_moons(rng, n):
  """Two interleaved half circles; label: which moon."""
  t = np.pi * rng.uniform(size=n)
  upper = rng.integers(2, size=n) == 1
  x = np.where(upper, np.cos(t), 1 - np.cos(t))
  y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
  return 2 * (np.stack([x, y], -1) - [0.5, 0.25]) + 0.15 * rng.normal(size=(n, 2)), upper


def _split_line(rng, n):
  """Uniform on the segments t in [-3, -1], [1, 3] along (1, 1)/sqrt(2), noise 0.05; label: which."""
  t = rng.uniform(1, 3, size=n) * rng.choice([-1.0, 1.0], size=n)
  return np.stack([t, t], -1) / np.sqrt(2) + 0.05 * rng.normal(size=(n, 2)), t > 0


def _gradient(rng, n):
  """Density proportional to x + 3 on the square [-3, 3]^2 (a linear ramp in x); one label."""
  x = np.stack([-3 + 6 * np.sqrt(rng.uniform(size=n)), rng.uniform(-3, 3, size=n)], -1)
  return x, np.zeros(n)


def _smiley(rng, n):
  """Face, two eyes and a mouth; label: which part."""
  part = rng.choice(4, size=n, p=[0.45, 0.15, 0.15, 0.25])
  angle = np.where(
    part == 3, np.pi + 0.35 + (np.pi - 0.7) * rng.uniform(size=n), 2 * np.pi * rng.uniform(size=n)
  )
  radius = np.select([part == 0, part == 3], [3.2, 1.8], 0.0)
  centre = np.select([part[:, None] == 1, part[:, None] == 2], [[-1.1, 1.0], [1.1, 1.0]], 0.0)
  points = centre + radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], -1)
  return points + np.where(part[:, None] == 0, 0.08, 0.2) * rng.normal(size=(n, 2)), part


def _skewed(rng, n):
  """Corners with half of the negative-x points reflected about the y-axis: P(x > 0) = 0.75.

  Label: which corner (quadrant) after the reflection.
  """
  x, _ = _corners(rng, n)
  flip = (x[:, 0] < 0) & (rng.uniform(size=n) < 0.5)
  x[flip, 0] *= -1
  return x, _quadrant(x)


def _offset(rng, n):
  """The n-gon shifted by (1, 0.5): symmetric about (1, 0.5) instead of the origin; label as n-gon."""
  x, label = _ngon(rng, n)
  return x + [1.0, 0.5], label


def _circle(rng, n):
  """Noise-free circle of radius 4 (a singular distribution); one label."""
  angle = 2 * np.pi * rng.uniform(size=n)
  return 4 * np.stack([np.cos(angle), np.sin(angle)], -1), np.zeros(n)


DATASETS = {
  "ngon": _ngon,
  "corners": _corners,
  "circles": _circles,
  "checkerboard": _checkerboard,
  "double_spiral": _double_spiral,
  "two_moons": _two_moons,
  "split_line": _split_line,
  "gradient": _gradient,
  "smiley": _smiley,
  "skewed": _skewed,
  "offset": _offset,
  "circle": _circle,
}
NUM_LABELS = {
  "ngon": 8,
  "corners": 4,
  "circles": 3,
  "checkerboard": 32,
  "double_spiral": 2,
  "two_moons": 2,
  "split_line": 2,
  "gradient": 1,
  "smiley": 4,
  "skewed": 4,
  "offset": 8,
  "circle": 1,
}


def toy2d(name, num_points=NUM_POINTS, seed=0, labels=False):
  """Draws a 2-D toy dataset (the points do not depend on `labels`).

  Args:
    name: one of `DATASETS`.
    num_points: N.
    seed: NumPy `default_rng` seed.
    labels: also return each point's component label.

  Returns:
    float32 array `[N, 2]`; with `labels`, also an int64 array `[N]` in
    `[0, NUM_LABELS[name])`.

  Raises:
    ValueError: for an unknown name or `num_points < 1`.
  """
  if name not in DATASETS:
    raise ValueError(f"unknown toy dataset {name!r}; choose from {sorted(DATASETS)}.")
  if int(num_points) < 1:
    raise ValueError(f"num_points must be >= 1, got {num_points}.")
  x, label = DATASETS[name](np.random.default_rng(seed), int(num_points))
  x = x.astype("float32")
  return (x, np.asarray(label).astype("int64")) if labels else x


@dataclasses.dataclass
class Toy2DConfig(tfds.core.BuilderConfig):
  """Config of `Toy2D`: the dataset name (a key of `DATASETS`)."""

  dataset: str = "ngon"


class Toy2D(LocalCodePath, tfds.core.GeneratorBasedBuilder):
  """2-D toy densities: splits "train" (seed 0), "test" (seed 1); 10,000 (``x`` [2], ``label``) each."""

  name = "toy2d"
  VERSION = tfds.core.Version("1.1.0")
  RELEASE_NOTES = {"1.0.0": "Initial release.", "1.1.0": "Adds the component `label`."}
  BUILDER_CONFIGS = [
    Toy2DConfig(name=name, dataset=name, description=DATASETS[name].__doc__ or name)
    for name in DATASETS
  ]

  def _info(self):
    return tfds.core.DatasetInfo(
      builder=self,
      description=self.builder_config.description,
      features=tfds.features.FeaturesDict(
        {
          "x": tfds.features.Tensor(shape=(2,), dtype=np.float32),
          "label": tfds.features.ClassLabel(num_classes=NUM_LABELS[self.builder_config.dataset]),
        }
      ),
      homepage="https://arxiv.org/abs/2007.02731",
      disable_shuffling=True,
    )

  def _split_generators(self, dl_manager):
    del dl_manager  # Nothing to download.
    return {"train": self._generate_examples(0), "test": self._generate_examples(1)}

  def _generate_examples(self, seed):
    x, label = toy2d(self.builder_config.dataset, NUM_POINTS, seed, labels=True)
    for i in range(NUM_POINTS):
      yield i, {"x": x[i], "label": label[i]}


def load_toy2d(name, split="train", data_dir=None, labels=False):
  """Prepares (once) and loads a split of a `Toy2D` config as a float32 array `[10000, 2]`.

  Args:
    name: one of `DATASETS`.
    split: "train" or "test".
    data_dir: tfds data directory (None: the tfds default).
    labels: also return the int64 labels `[10000]` (see `toy2d`).

  Raises:
    ValueError: for an unknown name.
  """
  if name not in DATASETS:
    raise ValueError(f"unknown toy dataset {name!r}; choose from {sorted(DATASETS)}.")
  builder = Toy2D(config=name, data_dir=data_dir)
  builder.download_and_prepare()
  data = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1))
  return (data["x"], data["label"]) if labels else data["x"]
