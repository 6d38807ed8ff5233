"""The SpatialMNIST study end to end through the runner at the quick preset, on a small build."""
import json
import os

import numpy as np
import pytest

from experiments import runner, spatial_mnist
from tfp_flows import cli
from tfp_flows.datasets.spatial_mnist import prepared_builder


@pytest.fixture(scope="module")
def small_data_dir(mnist_dir, tmp_path_factory):
  """A tfds data_dir with the first 64 sets of each spatial_mnist split."""
  data_dir = str(tmp_path_factory.mktemp("tfds_spatial"))
  prepared_builder(data_dir, mnist_dir, max_examples_per_split=64)
  return data_dir


def test_quick_preset_writes_marked_likelihoods_and_figures(small_data_dir, tmp_path):
  argv = ["reproduce", "spatial-mnist", "--out", str(tmp_path), "--data-dir", small_data_dir,
          "--models", "permute_flow", "iid"]
  assert cli.main(argv) == 0
  with open(tmp_path / "results.json") as f:
    results = json.load(f)
  assert results["study"] == "spatial-mnist" and results["preset"] == "quick"
  permute, iid = (results["tasks"][f"model/{m}"] for m in ("permute_flow", "iid"))
  assert not permute["exact"] and permute["likelihood"] == "bound, IW k=2"
  assert iid["exact"] and iid["likelihood"] == "exact"
  for r in (permute, iid):
    assert r["steps"] == 8 and r["nonfinite"] is None and r["samples_finite"]
    # Between a uniform density on the 28 x 28 square (-6.66) and far better than the paper.
    assert -9.0 < r["test_nats_per_point"] < -5.0 and 0 < r["test_se"] < 0.5
    samples = np.load(tmp_path / "tasks" / "model" / r["model"] / "samples.npy")
    assert samples.shape == (25, 50, 2)
  for name in ("results.md", "samples.png", "curves.png"):
    assert os.path.getsize(tmp_path / name) > 0
  assert "| iid | exact |" in (tmp_path / "results.md").read_text()
  # The saved weights are the trained ones: a model rebuilt from them draws the same sets.
  config, folder = results["config"], tmp_path / "tasks" / "model" / "iid"
  model = spatial_mnist.build_model("iid", config)
  model(np.load(folder / "samples.npy"))  # builds the weights
  model.load_weights(folder / "model.weights.h5")
  np.testing.assert_allclose(model.sample(25, seed=(config["seed"], 1)).numpy(),
                             np.load(folder / "samples.npy"), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("option,value,message", [
    ("--models", "bruno", "--models: unknown 'bruno'; expected names from ['iid', "),
    ("--steps", "0", "--steps must be an integer >= 1, got '0'"),
    ("--num-couplings", "0", "--num-couplings must be an integer >= 1, got '0'"),
    ("--preset", "gpu", "--preset: unknown 'gpu'"),
])
def test_bad_options_are_rejected_before_any_task(tmp_path, capsys, option, value, message):
  argv = ["reproduce", "spatial-mnist", "--out", str(tmp_path), option, value]
  with pytest.raises(SystemExit) as stop:
    cli.main(argv)
  assert stop.value.code == 2 and message in capsys.readouterr().err
  assert not os.path.exists(tmp_path / "tasks")


def test_num_couplings_overrides_the_preset_and_leaves_it_unchanged(tmp_path):
  _, config, _, _ = runner.prepare(spatial_mnist.STUDY, ["--preset", "cpu", "--out", str(tmp_path),
                                                         "--num-couplings", "12"])
  assert config["transformer"]["num_couplings"] == 12 and config["transformer"]["width"] == 32
  assert spatial_mnist.PRESETS["cpu"]["transformer"]["num_couplings"] == 4
