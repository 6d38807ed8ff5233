"""The `reproduce survae-toy` command end to end on a tiny preset: every study, flags, figures, resume."""

import json
import math
import os
import types

import numpy as np
import pytest

from experiments import survae_toy
from experiments.finite_guard import FiniteGuard
from experiments.survae_models import ToyModel
from tfp_flows import cli

TINY = dict(
  survae_toy.PRESETS["quick"],
  iterations=10,
  num_steps=1,
  hidden=(8,),
  iw_samples=10,
  iw_points=100,
  grid=20,
  abs_models=("abs_learned",),
  skewed_models=(),
  aug_data=(),
  circle_models=("bottleneck", "max"),
  labelled_models=("abs_learned_cond",),
)
EXACT = {
  "abs_learned/ngon": True,
  "bottleneck/circle": False,
  "max/circle": True,
  "abs_learned_cond/ngon": True,
}


def test_tiny_study_through_the_cli_writes_every_run_and_resumes(tmp_path, monkeypatch):
  monkeypatch.setitem(survae_toy.PRESETS, "tiny", TINY)
  argv = [
    "reproduce",
    "survae-toy",
    "--preset",
    "tiny",
    "--out",
    str(tmp_path / "out"),
    "--data-dir",
    str(tmp_path / "tfds"),
  ]
  assert cli.main(argv) == 0
  with open(tmp_path / "out" / "results.json") as f:
    results = json.load(f)
  runs = {k: v for k, v in results["tasks"].items() if not k.startswith("data/")}
  assert sorted(runs) == sorted(EXACT)
  assert results["tasks"]["data/circle"]["train_points"] > 0
  for key, r in runs.items():
    assert r["exact"] is EXACT[key], key
    assert np.isfinite(r["test_log_likelihood"]) and len(r["train_loss_per_epoch"]) == 10
    assert r["test_points"] == (10_000 if r["exact"] else 100)
    assert (r["iw_samples"] is None) is r["exact"]
  assert runs["bottleneck/circle"]["subset_elbo"] < runs["bottleneck/circle"]["test_log_likelihood"]
  for key in ("bottleneck/circle", "max/circle"):
    assert 0 < runs[key]["sample_radius_error"] < 4
  cond = runs["abs_learned_cond/ngon"]
  assert np.array(cond["q"]).shape == (8, 2)  # one q per n-gon component
  assert cond["label_entropy"] == pytest.approx(math.log(8), abs=2e-3)
  assert np.isfinite(cond["marginal_test_log_likelihood"])
  pair = (1 * 8 + 8) + (8 * 2 + 2) + 2 * 2  # coupling MLP 1-8-2, two Householder vectors
  assert (
    runs["max/circle"]["params"] == 2 * pair + 2 + 2
  )  # 2 x num_steps pairs, Max logits and scales
  for png in ("abs.png", "circle.png", "labelled.png"):
    assert os.path.getsize(tmp_path / "out" / png) > 1000
  text = (tmp_path / "out" / "results.md").read_text()
  assert (
    "| bottleneck | " in text
    and " (IW) | bound |" in text
    and "| ngon | abs_learned_cond |" in text
  )

  def fail(*a, **k):
    raise AssertionError("a finished (model, dataset) was trained again")

  monkeypatch.setattr(survae_toy, "train_one", fail)
  os.remove(tmp_path / "out" / "circle.png")
  assert cli.main(argv) == 0  # nothing left to train; the report is rebuilt
  assert os.path.exists(tmp_path / "out" / "circle.png")
  with pytest.raises(SystemExit):  # `--iterations 0` no longer means "the preset's"
    cli.main(argv + ["--iterations", "0", "--out", str(tmp_path / "other")])
  assert not os.path.exists(tmp_path / "other")


def test_unknown_model_and_too_few_steps_raise():
  with pytest.raises(ValueError, match="unknown model 'flow30'"):
    ToyModel("flow30")
  with pytest.raises(ValueError, match="num_steps must be >= 1"):
    ToyModel("bottleneck", num_steps=0)


def test_a_non_finite_loss_stops_training_at_the_last_finite_weights():
  trainer, ctx = survae_toy.Trainer("flow", TINY), types.SimpleNamespace(nonfinite=None)
  guard = FiniteGuard(ctx, snapshot="batch")
  x = np.random.default_rng(0).normal(size=(1000, 2)).astype("float32")
  x[::10] = np.nan  # every batch holds a NaN point: the first step's loss is NaN
  trainer.fit(x, x, callbacks=[guard])
  assert guard.stopped_at == 1 and "non-finite loss (nan) by iteration 1" in ctx.nonfinite
  for w, w0 in zip(trainer.model.get_weights(), trainer.initial):
    np.testing.assert_array_equal(w, w0)
  trainer.fit(x[1::10], x[1::10], callbacks=[guard])  # finite data: trains to the end
  assert guard.stopped_at is None and ctx.nonfinite is None
  assert any(np.any(w != w0) for w, w0 in zip(trainer.model.get_weights(), trainer.initial))
