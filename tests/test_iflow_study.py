"""The `reproduce iflow` command end to end on a tiny preset: results, resume, report, failures."""
import json
import os
import types

import numpy as np
import pytest
from keras import ops

from experiments import iflow
from tfp_flows import cli
from tfp_flows.models import IVAE

TINY = dict(iterations=6, seeds="1-2", data=dict(n_per_segment=16, n_segments=4, dim=2, n_layers=2),
            iflow=dict(num_steps=1, hidden_units=8))


@pytest.fixture
def tiny(monkeypatch):
  monkeypatch.setitem(iflow.PRESETS, "tiny", TINY)


def _args(out, **kw):
  base = dict(preset="tiny", out=str(out), seeds=None, models="iflow,ivae", parallel=2, verbose=0)
  return types.SimpleNamespace(**{**base, **kw})


@pytest.mark.parametrize("text,expected", [("1-3", [1, 2, 3]), ("7", [7]), ("1,4,9-10", [1, 4, 9, 10])])
def test_parse_seeds(text, expected):
  assert iflow.parse_seeds(text) == expected


@pytest.mark.parametrize("text", ["1-", "a-3", "5-2", "1..3"])
def test_malformed_seeds_are_named(text):
  with pytest.raises(ValueError, match=r"--seeds"):
    iflow.parse_seeds(text)


def test_tiny_study_writes_results_resumes_and_reports(tiny, tmp_path, monkeypatch):
  iflow.run(_args(tmp_path))
  results = json.load(open(tmp_path / "results.json"))
  assert results["study"] == "iflow"
  for name in ("iflow", "ivae"):
    runs = results["runs"]["study"][name]
    assert sorted(runs) == ["1", "2"]
    for r in runs.values():
      assert 0 <= r["mcc"] <= 1 and np.isfinite(r["final_loss"]) and r["status"] == "ok"
    assert "mcc_posterior_sample" in runs["1"] or name == "iflow"
    assert list(results["runs"]["visual"][name]) == ["1"]
  for png in ("mcc_per_seed.png", "final_loss_per_seed.png", "visual_2d.png",
              "best_seed_latents.png"):
    assert os.path.getsize(tmp_path / png) > 1000
  assert "| iflow | 2 (0) |" in open(tmp_path / "results.md").read()

  def no_training(*a, **k):
    raise AssertionError("a finished seed was trained again")
  monkeypatch.setattr(iflow.Trainer, "__init__", no_training)
  iflow.run(_args(tmp_path))  # everything is there: nothing trains
  os.remove(tmp_path / "results.md")
  assert cli.main(["report", "--out", str(tmp_path)]) == 0
  assert os.path.exists(tmp_path / "results.md")


class DivergingIVAE(IVAE):
  """An iVAE whose loss turns NaN after a few steps."""

  def per_example_loss(self, x, u, training=None):
    loss = super().per_example_loss(x, u, training)
    if training:
      step = ops.cast(self.optimizer.iterations, loss.dtype)
      loss = loss + ops.where(step > 3, np.nan, 0.0)  # NaN loss, finite gradients
    return loss


def test_nan_loss_stops_the_seed_and_the_sweep_goes_on(tiny, tmp_path, monkeypatch):
  monkeypatch.setitem(iflow.MODELS, "ivae", lambda d, m, k, s, c: DivergingIVAE(d, d, m, num_models=k, seed=s))
  monkeypatch.setitem(TINY, "iterations", 12)  # 3 epochs of 4 steps: NaN in the second
  iflow.run(_args(tmp_path, models="ivae", parallel=1))
  runs = json.load(open(tmp_path / "results.json"))["runs"]["study"]["ivae"]
  assert sorted(runs) == ["1", "2"]
  for r in runs.values():
    assert r["status"] == "nan" and "last good checkpoint" in r["message"]
    assert r["mcc"] is not None  # evaluated with the checkpoint of the first epoch


def test_bad_options_fail_before_training(tiny, tmp_path):
  with pytest.raises(ValueError, match="unknown"):
    iflow.run(_args(tmp_path, models="iflow,flowx"))
  with pytest.raises(ValueError, match="--parallel"):
    iflow.run(_args(tmp_path, parallel=0))
