"""tfp_flows.datasets."""
import importlib

from tfp_flows.datasets.nonstationary import nonstationary_sources
from tfp_flows.datasets.toy2d import load_toy2d, toy2d

_LAZY = {
  "load_nonstationary": "tfp_flows.datasets.nonstationary_builder",
  "load_mnist": "tfp_flows.datasets.mnist",
  "load_mnist_numpy": "tfp_flows.datasets.mnist",
  "load_spatial_mnist": "tfp_flows.datasets.spatial_mnist",
  "load_spatial_mnist_numpy": "tfp_flows.datasets.spatial_mnist",
}


def __getattr__(name):
  # The tfds builders import TensorFlow (Datasets); importing them on first use keeps
  # `import tfp_flows.datasets` light.
  if name in _LAZY:
    return getattr(importlib.import_module(_LAZY[name]), name)
  raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
