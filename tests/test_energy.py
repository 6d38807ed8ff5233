"""The energy study end to end on a tiny budget: the loss falls, files are written, reruns resume."""
import argparse
import json
import os

import pytest

from experiments import energy


def test_tiny_run_lowers_kl_and_writes_outputs(tmp_path, monkeypatch):
  args = argparse.Namespace(preset="quick", out=str(tmp_path), models=["planar-2"],
                            targets=["U1"], iterations=400, seed=0)
  energy.run(args)
  with open(tmp_path / "results.json") as f:
    results = json.load(f)
  assert results["study"] == "energy"
  entry = results["runs"]["planar-2/U1"]
  curve = entry["free_energy_per_epoch"]
  assert curve[-1] < curve[0] - 1.0  # free energy = KL - log Z, in nats
  assert entry["params"] == 10 and entry["iterations"] == 400
  assert 0 < entry["kl"] < curve[0] + entry["log_z"]
  for name in ("results.md", "energy.png"):
    assert os.path.getsize(tmp_path / name) > 0
  assert "planar-2" in (tmp_path / "results.md").read_text()

  def fail(*a, **k):
    raise AssertionError("a finished (model, target) was trained again")
  monkeypatch.setattr(energy, "train_one", fail)
  energy.run(args)


def test_nice_matches_planar_32_parameter_count():
  count = lambda flow: sum(int(v.numpy().size) for v in flow.trainable_variables)
  assert count(energy.build_flow("planar-32")) == 160
  assert count(energy.build_flow("radial-32")) == 128
  assert abs(count(energy.build_flow("nice")) - 160) <= 5
  with pytest.raises(ValueError, match="unknown model"):
    energy.build_flow("maf-3")
