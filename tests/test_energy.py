"""The energy study end to end through the runner on a tiny budget: the loss falls, files are
written, reruns resume, bad options are rejected before any task folder exists."""
import json
import os

import pytest

from experiments import energy, runner
from tfp_flows import cli


def test_tiny_run_lowers_kl_and_writes_outputs(tmp_path, monkeypatch):
  argv = ["reproduce", "energy", "--out", str(tmp_path), "--models", "planar-2", "--targets", "U1",
          "--iterations", "400"]
  assert cli.main(argv) == 0
  with open(tmp_path / "results.json") as f:
    results = json.load(f)
  assert results["study"] == "energy" and results["config"]["iterations"] == 400
  entry = results["tasks"]["planar-2/U1"]
  curve = entry["free_energy_per_epoch"]
  assert curve[-1] < curve[0] - 1.0  # free energy = KL - log Z, in nats
  assert entry["params"] == 10 and entry["iterations"] == 400 and entry["nonfinite"] is None
  assert 0 < entry["kl"] < curve[0] + entry["log_z"]
  for name in ("results.md", "energy.png", "tasks/planar-2/U1/density.npy"):
    assert os.path.getsize(tmp_path / name) > 0
  assert os.listdir(tmp_path / "tensorboard" / "planar-2" / "U1")
  assert "planar-2" in (tmp_path / "results.md").read_text()

  def fail(*a, **k):
    raise AssertionError("a finished (model, target) was trained again")
  monkeypatch.setattr(energy, "train_one", fail)
  assert cli.main(argv) == 0


@pytest.mark.parametrize("option,value,message", [
    ("--models", "bogus", "--models: unknown 'bogus'; expected planar-K, radial-K (K >= 1) or nice"),
    ("--models", "planar-0", "--models: unknown 'planar-0'"),
    ("--targets", "U9", "--targets: unknown 'U9'; expected names from ['U1', "),
    ("--iterations", "0", "--iterations must be an integer >= 1, got '0'"),
    ("--iterations", "-5", "--iterations must be an integer >= 1, got '-5'"),
    ("--seed", "4294967296", "--seed must be an integer in 0 .. 4294967295, got '4294967296'"),
    ("--workers", "0", "--workers must be an integer >= 1"),
    ("--verbose", "3", "--verbose must be an integer in 0 .. 2, got '3'"),
])
def test_bad_options_are_rejected_before_any_task(tmp_path, capsys, option, value, message):
  argv = ["reproduce", "energy", "--out", str(tmp_path), "--models", "planar-2", option, value]
  with pytest.raises(SystemExit) as stop:
    cli.main(argv)
  assert stop.value.code == 2 and message in capsys.readouterr().err
  assert not os.path.exists(tmp_path / "tasks")


def test_nice_matches_planar_32_parameter_count():
  count = lambda flow: sum(int(v.numpy().size) for v in flow.trainable_variables)
  assert count(energy.build_flow("planar-32")) == 160
  assert count(energy.build_flow("radial-32")) == 128
  assert abs(count(energy.build_flow("nice")) - 160) <= 5
  with pytest.raises(ValueError, match="unknown model"):
    energy.build_flow("maf-3")
