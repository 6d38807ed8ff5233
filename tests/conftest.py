"""Shared pytest settings: quiet TensorFlow, Keras on the TensorFlow backend; MNIST fixtures."""
import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


@pytest.fixture(scope="session")
def mnist_dir():
  """The verified MNIST IDX files' directory (`mnist_files.fetch()` once); skips if unobtainable."""
  from tfp_flows.datasets import mnist_files

  try:
    return os.path.dirname(mnist_files.fetch()["train-images-idx3-ubyte"])
  except (OSError, ValueError) as e:
    pytest.skip(f"MNIST files unavailable: {e}")


@pytest.fixture(scope="session")
def mnist_data_dir(mnist_dir, tmp_path_factory):
  """A tfds data_dir with `mnist_idx/grayscale` built by `load_mnist` from `mnist_dir` (once)."""
  from tfp_flows.datasets import load_mnist

  data_dir = str(tmp_path_factory.mktemp("tfds"))
  load_mnist("test", data_dir=data_dir, mnist_dir=mnist_dir)
  return data_dir
