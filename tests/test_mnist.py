"""MNIST: file checks, the `mnist_idx` builder's splits, and the three binarizations of `load_mnist`.

Needs the IDX files (fixture `mnist_dir` fetches them once, or skips) and builds both tfds configs
once per session (`mnist_data_dir`, about 20 s on 2 cores).
"""

import gzip
import os
import shutil

import numpy as np
import pytest

from tfp_flows.cli import main
from tfp_flows.datasets import mnist_files

# Label counts 0..9 of the 60,000 training images (the standard MNIST training set).
TRAIN_LABEL_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def _copy(mnist_dir, tmp_path, modified):
  """Links the four files into tmp_path, with a modifiable copy of `modified`."""
  for name in mnist_files.FILES:
    if name == modified:
      shutil.copy(os.path.join(mnist_dir, name), tmp_path / name)
    else:
      os.symlink(os.path.join(mnist_dir, name), tmp_path / name)
  return tmp_path / modified


def _poke(path, offset, value):
  data = bytearray(path.read_bytes())
  data[offset] = value if value is not None else data[offset] ^ 0xFF
  path.write_bytes(bytes(data))


def test_files_verify_and_read(mnist_dir):
  files = mnist_files.verify(mnist_dir)
  labels = mnist_files.read_idx(files["train-labels-idx1-ubyte"])
  np.testing.assert_array_equal(np.bincount(labels), TRAIN_LABEL_COUNTS)
  images = mnist_files.read_idx(files["t10k-images-idx3-ubyte"])
  assert images.shape == (10000, 28, 28) and images.dtype == np.uint8 and images.max() == 255


@pytest.mark.parametrize(
  "name, offset, value, message",
  [
    ("t10k-images-idx3-ubyte", 16 + 28 * 14 + 14, None, "t10k-images-idx3-ubyte: MD5 .* expected"),
    (
      "train-labels-idx1-ubyte",
      3,
      0x03,
      "train-labels-idx1-ubyte: magic number 2051, expected 2049",
    ),
    ("t10k-images-idx3-ubyte", 7, 0x0F, "t10k-images-idx3-ubyte: header says shape"),
    ("t10k-labels-idx1-ubyte", 8, 10, r"t10k-labels-idx1-ubyte: label 10 found, expected labels"),
  ],
)
def test_verify_names_the_bad_file(mnist_dir, tmp_path, name, offset, value, message):
  _poke(_copy(mnist_dir, tmp_path, name), offset, value)
  with pytest.raises(ValueError, match=message):
    mnist_files.verify(tmp_path)


def test_verify_reads_gz_and_names_the_command_when_missing(mnist_dir, tmp_path):
  name = "t10k-labels-idx1-ubyte"
  path = _copy(mnist_dir, tmp_path, name)
  with gzip.open(f"{path}.gz", "wb") as f:
    f.write(path.read_bytes())
  os.remove(path)
  assert mnist_files.verify(tmp_path)[name] == f"{path}.gz"
  os.remove(f"{path}.gz")
  with pytest.raises(FileNotFoundError, match=f"{name}.*tfp-flows data mnist --dir {tmp_path}"):
    mnist_files.verify(tmp_path)


def test_fetch_leaves_valid_files_and_replaces_a_corrupt_one(mnist_dir, tmp_path, capsys):
  mtime = os.stat(os.path.join(mnist_dir, "train-images-idx3-ubyte")).st_mtime_ns
  assert main(["data", "mnist", "--dir", mnist_dir]) == 0
  assert capsys.readouterr().out.strip() == f"MNIST files verified in {mnist_dir}"
  assert os.stat(os.path.join(mnist_dir, "train-images-idx3-ubyte")).st_mtime_ns == mtime
  _poke(_copy(mnist_dir, tmp_path, "t10k-labels-idx1-ubyte"), 20, None)
  try:
    mnist_files.fetch(tmp_path)
  except OSError as e:
    pytest.skip(f"no MNIST source reachable: {e}")
  mnist_files.verify(tmp_path)


def _pixels(mnist_dir, name="t10k-images-idx3-ubyte"):
  return mnist_files.read_idx(os.path.join(mnist_dir, name))[..., None]


def test_split_sizes(mnist_data_dir):
  from tfp_flows.datasets.mnist import MnistIdx

  splits = MnistIdx(config="grayscale", data_dir=mnist_data_dir).info.splits
  assert {k: splits[k].num_examples for k in splits} == {
    "train": 50000,
    "validation": 10000,
    "test": 10000,
  }


def test_none_is_pixels_over_255_in_file_order(mnist_dir, mnist_data_dir):
  from tfp_flows.datasets import load_mnist, load_mnist_numpy

  train = _pixels(mnist_dir, "train-images-idx3-ubyte")
  x = load_mnist_numpy("test", "none", data_dir=mnist_data_dir)
  assert x.shape == (10000, 28, 28, 1) and x.dtype == np.float32
  np.testing.assert_array_equal(x, _pixels(mnist_dir).astype(np.float32) / np.float32(255))
  first = next(iter(load_mnist("validation", "none", batch_size=3, data_dir=mnist_data_dir)))
  np.testing.assert_array_equal(first, train[50000:50003] / np.float32(255))
  first = next(iter(load_mnist("train", "none", data_dir=mnist_data_dir)))
  np.testing.assert_array_equal(first, train[0] / np.float32(255))


def _check_bernoulli(x, p):
  """x: draws [N, 28, 28, 1] of Bernoulli(p); per pixel position the standardised sum is ~N(0, 1)."""
  assert x.shape == p.shape and x.dtype == np.float32 and np.all((x == 0) | (x == 1))
  assert np.all(x[p == 0] == 0) and np.all(x[p == 1] == 1)
  variance = (p * (1 - p)).sum(0)
  z = (x - p).sum(0)[variance > 1] / np.sqrt(variance[variance > 1])
  assert np.max(np.abs(z)) < 5 and 0.8 < np.mean(z**2) < 1.2, (np.max(np.abs(z)), np.mean(z**2))


def test_static_is_one_fixed_bernoulli_draw(mnist_dir, tmp_path):
  import tensorflow_datasets as tfds

  from tfp_flows.datasets import load_mnist_numpy
  from tfp_flows.datasets.mnist import MnistIdx

  n = 3000  # A capped build of the "binarized" config: the draw is made before the cap.
  MnistIdx(config="binarized", data_dir=str(tmp_path)).download_and_prepare(
    download_config=tfds.download.DownloadConfig(manual_dir=mnist_dir, max_examples_per_split=n)
  )
  x = load_mnist_numpy("test", "static", data_dir=str(tmp_path))
  np.testing.assert_array_equal(x, load_mnist_numpy("test", "static", data_dir=str(tmp_path)))
  _check_bernoulli(x, _pixels(mnist_dir)[:n] / 255.0)


def test_dynamic_is_a_fresh_bernoulli_draw_every_epoch(mnist_dir, mnist_data_dir):
  from tfp_flows.datasets import load_mnist

  def load(seed):
    return load_mnist("test", "dynamic", batch_size=5000, seed=seed, data_dir=mnist_data_dir)

  p = _pixels(mnist_dir) / 255.0
  dataset = load(3)
  epochs = [np.concatenate(list(dataset.as_numpy_iterator())) for _ in range(2)]
  np.testing.assert_array_equal(epochs[0], np.concatenate(list(load(3).as_numpy_iterator())))
  assert not np.array_equal(epochs[0][:5000], next(iter(load(4))))
  for x in epochs:
    _check_bernoulli(x, p)
  # Independent draws: P(two epochs differ at a pixel) = 2 p (1 - p).
  differ, expected = (epochs[0] != epochs[1]).sum(), 2 * (p * (1 - p)).sum()
  assert abs(differ - expected) < 5 * np.sqrt(expected), (differ, expected)


def test_batches_shuffle_and_repeat(mnist_dir, mnist_data_dir):
  from tfp_flows.datasets import load_mnist

  def first_batch(seed):
    dataset = load_mnist("validation", "none", 32, shuffle=True, seed=seed, data_dir=mnist_data_dir)
    return next(iter(dataset)).numpy()

  shuffled = first_batch(1)
  assert shuffled.shape == (32, 28, 28, 1)
  np.testing.assert_array_equal(shuffled, first_batch(1))
  in_order = _pixels(mnist_dir, "train-images-idx3-ubyte")[50000:50032] / np.float32(255)
  assert not np.array_equal(shuffled, in_order)
  repeated = load_mnist("test", "none", batch_size=6000, repeat=True, data_dir=mnist_data_dir)
  assert [x.shape[0] for x in repeated.take(2)] == [6000, 6000]  # across the epoch boundary


@pytest.mark.parametrize(
  "kwargs, message",
  [
    ({"split": "valid"}, "split must be one of .*'valid'"),
    ({"split": "train", "binarization": "fixed"}, "binarization must be one of .*'fixed'"),
    ({"split": "train", "batch_size": 0}, "batch_size must be an integer >= 1 or None, got 0"),
  ],
)
def test_bad_arguments_raise_before_work(tmp_path, kwargs, message):
  from tfp_flows.datasets import load_mnist

  with pytest.raises(ValueError, match=message):
    load_mnist(**kwargs, data_dir=str(tmp_path), mnist_dir=str(tmp_path))
  assert not os.listdir(tmp_path)
