"""The `reproduce iflow` command end to end on a tiny preset: results, resume, report, failures,
bad options, and the migration of a `results.json` written before the runner."""
import json
import os
import re

import numpy as np
import pytest
from keras import ops

from experiments import iflow, runner
from tfp_flows import cli
from tfp_flows.models import IVAE

TINY = dict(iterations=6, seeds="1-2", data=dict(n_per_segment=16, n_segments=4, dim=2, n_layers=2),
            iflow=dict(num_steps=1, hidden_units=8), jit_compile=False)


@pytest.fixture
def tiny(monkeypatch):
  monkeypatch.setitem(iflow.PRESETS, "tiny", TINY)


def _reproduce(out, *extra):
  return cli.main(["reproduce", "iflow", "--preset", "tiny", "--out", str(out), *extra])


@pytest.mark.parametrize("text,expected", [("1-3", [1, 2, 3]), ("7", [7]), ("1,4,9-10", [1, 4, 9, 10])])
def test_parse_seeds(text, expected):
  assert iflow.parse_seeds(text) == expected


@pytest.mark.parametrize("text", ["1-", "a-3", "5-2", "1..3", "1,4294967296"])
def test_malformed_seeds_are_named(text):
  with pytest.raises(ValueError, match=r"--seeds"):
    iflow.parse_seeds(text)


def test_tiny_study_writes_results_resumes_and_reports(tiny, tmp_path, monkeypatch, capsys):
  assert _reproduce(tmp_path, "--models", "iflow,ivae", "--parallel", "5") == 0
  assert "--parallel 5 is more than the 2 seeds: training 2 at once." in capsys.readouterr().out
  results = json.load(open(tmp_path / "results.json"))
  assert results["study"] == "iflow" and results["config"]["parallel"] == 2
  tasks = results["tasks"]
  for name in ("iflow", "ivae"):
    for seed in ("1", "2"):
      r = tasks[f"study/{name}/{seed}"]
      assert 0 <= r["mcc"] <= 1 and np.isfinite(r["final_loss"]) and r["status"] == "ok"
      assert r["stacked"] == 2 and r["nonfinite"] is None
      assert os.path.exists(tmp_path / "tasks" / "study" / name / seed / "latents.npz")
    assert "mcc_posterior_sample" in tasks[f"study/{name}/1"] or name == "iflow"
    assert f"visual/{name}/1" in tasks
    assert os.listdir(tmp_path / "tensorboard" / "study" / name / "k2-seeds-1-2")
  assert len(tasks) == 6
  for png in ("mcc_per_seed.png", "final_loss_per_seed.png", "visual_2d.png",
              "best_seed_latents.png"):
    assert os.path.getsize(tmp_path / png) > 1000
  assert "| iflow | 2 (0) |" in open(tmp_path / "results.md").read()

  def no_training(*a, **k):
    raise AssertionError("a finished seed was trained again")
  monkeypatch.setattr(iflow.Trainer, "train", no_training)
  assert _reproduce(tmp_path, "--models", "iflow,ivae") == 0  # everything is there
  os.remove(tmp_path / "results.md")
  assert cli.main(["report", "--out", str(tmp_path)]) == 0
  assert "| ivae | 2 (0) |" in open(tmp_path / "results.md").read()


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
  assert _reproduce(tmp_path, "--models", "ivae", "--parallel", "1") == 0
  tasks = json.load(open(tmp_path / "results.json"))["tasks"]
  assert sorted(tasks) == ["study/ivae/1", "study/ivae/2", "visual/ivae/1"]
  for r in tasks.values():
    assert r["status"] == "nan" and re.search(r"non-finite loss .* weights of epoch \d+ restored", r["nonfinite"])
    assert r["mcc"] is not None  # evaluated with the weights of the first epoch


@pytest.mark.parametrize("option,value,message", [
    ("--models", "iflow,flowx", "--models: unknown 'flowx'; expected names from ['iflow', "),
    ("--parallel", "0", "--parallel must be 'auto' or an integer >= 1, got '0'"),
    ("--parallel", "-2", "--parallel must be 'auto' or an integer >= 1, got '-2'"),
    ("--parallel", "many", "--parallel must be 'auto' or an integer >= 1, got 'many'"),
    ("--seeds", "1,4294967296", "--seeds must be an integer in 0 .. 4294967295, got 4294967296"),
    ("--preset", "paper", "holds results of preset 'tiny'"),
])
def test_bad_options_fail_before_any_task(tiny, tmp_path, capsys, option, value, message):
  runner.write_json(str(tmp_path / "results.json"), dict(study="iflow", preset="tiny", tasks={}))
  with pytest.raises(SystemExit) as stop:
    _reproduce(tmp_path, option, value) if option != "--preset" else cli.main(
        ["reproduce", "iflow", "--preset", value, "--out", str(tmp_path)])
  assert stop.value.code == 2 and message in capsys.readouterr().err
  assert not os.path.exists(tmp_path / "tasks")


def test_a_results_json_of_the_old_layout_is_migrated_and_resumed(tiny, tmp_path, monkeypatch):
  """An old run (seed 1 of ivae finished, latents in latents/) resumes with seed 2 only."""
  old = dict(study="iflow", preset="tiny", data=TINY["data"], iflow_config=TINY["iflow"],
             runs={"study": {"ivae": {"1": dict(seed=1, mcc=0.5, final_loss=9.0, iterations=6,
                                                wall_seconds=1.0, stacked=1, status="ok")}}})
  os.makedirs(tmp_path / "latents")
  rng = np.random.default_rng(0)
  np.savez_compressed(tmp_path / "latents" / "study_ivae_seed1.npz", z=rng.normal(size=(64, 2)),
                      s=rng.normal(size=(64, 2)), segment=np.arange(64) % 4)
  runner.write_json(str(tmp_path / "results.json"), old)
  trained = []
  train = iflow.Trainer.train
  monkeypatch.setattr(iflow.Trainer, "train",
                      lambda self, seeds, ctx: trained.append(seeds) or train(self, seeds, ctx))
  assert _reproduce(tmp_path, "--models", "ivae", "--parallel", "2") == 0
  assert trained == [[2], [1]]  # study seed 2 (seed 1 was migrated), then the visual case
  results = json.load(open(tmp_path / "results.json"))
  assert results["tasks"]["study/ivae/1"]["mcc"] == 0.5
  assert sorted(results["tasks"]) == ["study/ivae/1", "study/ivae/2", "visual/ivae/1"]
  assert json.load(open(tmp_path / "results.before-runner.json")) == old
  assert os.path.getsize(tmp_path / "best_seed_latents.png") > 1000  # seed 1's old latents


def test_paired_differences_use_shared_seeds_only():
  from experiments import iflow_report
  mcc = {"iflow": {1: 0.9, 2: 0.7, 3: 0.8}, "ivae": {1: 0.5, 2: 0.8, 4: 0.1}}
  tasks = {f"study/{m}/{s}": dict(seed=s, mcc=v) for m, d in mcc.items() for s, v in d.items()}
  runs = iflow_report.runs_of(dict(tasks=tasks, config=dict(models=["iflow", "ivae"])))
  row = iflow_report.paired(dict(runs=runs)).splitlines()[-1]
  diff = np.array([0.4, -0.1])  # seeds 1 and 2; seeds 3 and 4 are not shared
  assert row == f"| ivae | 2 | {diff.mean():+.4f} ± {diff.std() / 1.0:.4f} | 1 of 2 |"
