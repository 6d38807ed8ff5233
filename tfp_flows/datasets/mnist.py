"""MNIST as a tfds builder from the local IDX files, and the loader of the VAE studies (imports tfds).

Importing this module registers the tfds dataset ``mnist_idx`` (named apart from tfds' own
``mnist``, which downloads). It is built from the four IDX files of `mnist_files` in tfds' manual
directory (``tfp-flows data mnist`` puts them in `mnist_files.default_dir()`), which are verified
first. Examples: ``image`` uint8 [28, 28, 1] and ``label`` ClassLabel(10), in file order. Splits:
"train" the first 50,000 training images, "validation" the last 10,000, "test" the 10,000 t10k
images. Configs: "grayscale" (default; raw pixels 0..255) and "binarized" (one fixed
Bernoulli(pixel / 255) draw per pixel, stored as 0/1; `STATIC_BINARIZATION_SEED`).
Sources: LeCun et al. 1998 (the data); Bernoulli(pixel / 255) binarization as in Salakhutdinov &
Murray 2008 (ICML, "On the quantitative analysis of deep belief networks"). The "binarized"
config is our own draw, not the fixed binarization of Larochelle & Murray 2011.
"""

from typing import ClassVar

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from tfp_flows.checks import check_choice, check_int
from tfp_flows.datasets.code_path import LocalCodePath
from tfp_flows.datasets import mnist_files

SPLITS = {"train": 50_000, "validation": 10_000, "test": 10_000}
BINARIZATIONS = ("dynamic", "static", "none")
# The "binarized" config draws the training file with np.random.default_rng([seed, 0]) and the
# t10k file with default_rng([seed, 1]): pixel = uniform() < pixel / 255.
STATIC_BINARIZATION_SEED = 0
_INSTRUCTIONS = f"""Put the four uncompressed MNIST IDX files ({", ".join(mnist_files.FILES)})
in the manual directory, e.g. with `{mnist_files.FETCH_COMMAND}`; `load_mnist` passes
`tfds.download.DownloadConfig(manual_dir=DIR)` (DIR defaults to $TFP_FLOWS_MNIST_DIR or
~/tensorflow_datasets/downloads/manual/mnist)."""


def _static_binarization(images, stream):
  rng = np.random.default_rng([STATIC_BINARIZATION_SEED, stream])
  return (rng.uniform(size=images.shape) < images / 255.0).astype(np.uint8)


class MnistIdx(LocalCodePath, tfds.core.GeneratorBasedBuilder):
  """MNIST from the local IDX files: configs "grayscale" and "binarized", splits of `SPLITS`."""

  name = "mnist_idx"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES: ClassVar[dict] = {"1.0.0": "Initial release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = _INSTRUCTIONS
  BUILDER_CONFIGS: ClassVar[list] = [
    tfds.core.BuilderConfig(name="grayscale", description="Raw uint8 pixels 0..255."),
    tfds.core.BuilderConfig(
      name="binarized",
      description=f"Static binarization: Bernoulli(pixel / 255) drawn once (seed "
      f"{STATIC_BINARIZATION_SEED}), stored as 0/1.",
    ),
  ]

  def _info(self):
    return tfds.core.DatasetInfo(
      builder=self,
      description=self.builder_config.description,
      features=tfds.features.FeaturesDict(
        {
          "image": tfds.features.Tensor(
            shape=(28, 28, 1), dtype=np.uint8, encoding=tfds.features.Encoding.BYTES
          ),
          "label": tfds.features.ClassLabel(num_classes=10),
        }
      ),
      homepage="http://yann.lecun.com/exdb/mnist/",
      disable_shuffling=True,
    )

  def _split_generators(self, dl_manager):
    (train, train_labels), (test, test_labels) = mnist_files.read_verified(dl_manager.manual_dir)
    if self.builder_config.name == "binarized":
      train, test = _static_binarization(train, 0), _static_binarization(test, 1)
    n = SPLITS["train"]
    return {
      "train": self._generate_examples(train[:n], train_labels[:n]),
      "validation": self._generate_examples(train[n:], train_labels[n:]),
      "test": self._generate_examples(test, test_labels),
    }

  def _generate_examples(self, images, labels):
    for i, (image, label) in enumerate(zip(images, labels)):
      yield i, {"image": image[:, :, None], "label": int(label)}


def _check(split, binarization, batch_size):
  check_choice("load_mnist", "split", split, tuple(SPLITS))
  check_choice("load_mnist", "binarization", binarization, BINARIZATIONS)
  check_int("load_mnist", "batch_size", batch_size, optional=True)


def _prepared_builder(config, data_dir, mnist_dir):
  builder = MnistIdx(config=config, data_dir=data_dir)
  if not builder.is_prepared():
    manual_dir = mnist_dir or mnist_files.default_dir()
    mnist_files.verify(manual_dir)  # Our messages before tfds' own manual-dir checks.
    builder.download_and_prepare(
      download_config=tfds.download.DownloadConfig(manual_dir=manual_dir)
    )
  return builder


def _dynamic_binarization(images, seed):
  u = tf.random.stateless_uniform(tf.shape(images), seed=seed)
  return tf.cast(u < tf.cast(images, tf.float32) / 255.0, tf.float32)


def load_mnist(
  split,
  binarization="dynamic",
  batch_size=None,
  shuffle=False,
  seed=0,
  data_dir=None,
  mnist_dir=None,
  repeat=False,
):
  """MNIST images as a float32 `tf.data.Dataset` (labels dropped), preparing `mnist_idx` once.

  Args:
    split: "train" (50,000), "validation" (10,000) or "test" (10,000).
    binarization: "dynamic": a fresh Bernoulli(pixel / 255) draw each time an image is used, so
      every epoch (every iteration of the dataset, or every pass with `repeat`) differs; the
      draws are deterministic given `seed` (and TF's global seed), from
      `tf.data.Dataset.random(seed, rerandomize_each_iteration=True)` feeding stateless uniforms.
      "static": the "binarized" config (one fixed draw). "none": grayscale pixel / 255 in [0, 1].
    batch_size: None for single images `[28, 28, 1]`, else batches `[batch_size, 28, 28, 1]`
      (the last one smaller unless `repeat`).
    shuffle: shuffle with a buffer of the whole split, reshuffled every iteration (`seed`).
    seed: int seed of the shuffle and of dynamic binarization.
    data_dir: tfds data directory (None: the tfds default).
    mnist_dir: directory of the IDX files used to build the dataset the first time (None:
      `mnist_files.default_dir()`).
    repeat: repeat the split forever (shuffled anew each pass).

  Returns:
    `tf.data.Dataset` of float32 images with values in {0, 1} ("dynamic", "static") or [0, 1].

  Raises:
    TypeError: for a batch_size that is not an integer (nor None).
    ValueError: for an unknown split or binarization, a batch_size < 1, or invalid IDX files.
    FileNotFoundError: if the dataset is not prepared and the IDX files are missing; the message
      names `tfp-flows data mnist --dir DIR`.
  """
  _check(split, binarization, batch_size)
  builder = _prepared_builder(
    "binarized" if binarization == "static" else "grayscale", data_dir, mnist_dir
  )
  autotune = tf.data.AUTOTUNE
  images = builder.as_dataset(split=split).map(lambda ex: ex["image"], autotune).cache()
  if shuffle:
    images = images.shuffle(SPLITS[split], seed=seed, reshuffle_each_iteration=True)
  if repeat:
    images = images.repeat()
  if batch_size is not None:
    images = images.batch(batch_size)
  if binarization == "dynamic":
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    images = tf.data.Dataset.zip(images, seeds).map(_dynamic_binarization, autotune)
  else:
    scale = 255.0 if binarization == "none" else 1.0
    images = images.map(lambda x: tf.cast(x, tf.float32) / scale, autotune)
  return images.prefetch(autotune)


def load_mnist_numpy(split, binarization="dynamic", seed=0, data_dir=None, mnist_dir=None):
  """A whole split as one float32 array `[N, 28, 28, 1]` (one draw for "dynamic"), for evaluation.

  Args and errors as in `load_mnist`; N is `SPLITS[split]`.
  """
  _check(split, binarization, None)
  dataset = load_mnist(
    split, binarization, SPLITS[split], seed=seed, data_dir=data_dir, mnist_dir=mnist_dir
  )
  return next(iter(dataset)).numpy()


def load_mnist_labeled(split, data_dir=None, mnist_dir=None):
  """A whole grayscale split with its labels: `(images uint8 [N, 28, 28, 1], labels int64 [N])`.

  Raw pixel values 0..255 (no binarization, no scaling), for models of the
  8-bit data in bits/dim and class-conditional models. Errors as in `load_mnist`.
  """
  _check(split, "none", None)
  builder = _prepared_builder("grayscale", data_dir, mnist_dir)
  data = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1))
  return data["image"], data["label"]
