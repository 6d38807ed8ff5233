"""`experiments.runner` on Dask: a 2-worker LocalCluster runs a tiny iFlow study; a worker killed
mid-task loses nothing; two clients merging into one results.json keep both; broken files are
named."""
import json
import multiprocessing
import os
import time

import pytest

import study_fixtures
from experiments import energy, iflow, runner
from tfp_flows import cli

TINY = dict(iterations=4, seeds="1-2", data=dict(n_per_segment=16, n_segments=4, dim=2, n_layers=2),
            iflow=dict(num_steps=1, hidden_units=8))


def test_two_worker_local_cluster_runs_a_tiny_iflow_study(tmp_path, monkeypatch):
  monkeypatch.setitem(iflow.PRESETS, "tiny", TINY)
  assert cli.main(["reproduce", "iflow", "--preset", "tiny", "--out", str(tmp_path), "--models",
                   "ivae", "--parallel", "2", "--workers", "2"]) == 0
  tasks = json.load(open(tmp_path / "results.json"))["tasks"]
  assert sorted(tasks) == ["study/ivae/1", "study/ivae/2", "visual/ivae/1"]
  assert all(0 <= r["mcc"] <= 1 and r["status"] == "ok" for r in tasks.values())
  assert "| ivae | 2 (0) |" in open(tmp_path / "results.md").read()


def test_a_worker_killed_mid_task_loses_nothing(tmp_path):
  out = str(tmp_path)
  runner.run(study_fixtures.STUDY, ["--out", out, "--workers", "2", "--count", "4"])
  assert os.path.exists(tmp_path / "killed-once")  # task n/2 did kill its worker once
  tasks = json.load(open(tmp_path / "results.json"))["tasks"]
  assert sorted(tasks) == ["n/1", "n/2", "n/3", "n/4"]
  for key, r in tasks.items():
    assert r["number"] == int(key[2:])
    ran = open(tmp_path / "tasks" / "n" / key[2:] / "ran").read().split()
    assert ran == [str(r["pid"])]  # each task finished once, and its result is that run's


def test_two_clients_writing_one_out_keep_both_sets(tmp_path):
  spawn = multiprocessing.get_context("spawn")
  start_at = time.time() + 5  # both write at once
  clients = [spawn.Process(target=study_fixtures.record_many, args=(str(tmp_path), first, start_at))
             for first in (0, 100)]
  for c in clients:
    c.start()
  for c in clients:
    c.join(120)
    assert c.exitcode == 0
  tasks = json.load(open(tmp_path / "results.json"))["tasks"]
  assert sorted(tasks) == sorted(f"n/{i}" for i in [*range(25), *range(100, 125)])


def test_broken_and_foreign_results_json_are_named(tmp_path, capsys):
  path = tmp_path / "results.json"
  path.write_text('{"study": "energy", "preset": "qu')
  with pytest.raises(SystemExit):
    cli.main(["reproduce", "energy", "--out", str(tmp_path), "--models", "planar-2"])
  assert f"{path} is broken (not readable JSON" in capsys.readouterr().err
  assert not os.path.exists(tmp_path / "tasks")
  runner.write_json(str(path), dict(study="energy", preset="quick", config={}, tasks={}))
  with pytest.raises(SystemExit):
    cli.main(["reproduce", "iflow", "--out", str(tmp_path)])
  assert "holds results of study 'energy', not 'iflow'" in capsys.readouterr().err
  runner.write_json(str(path), dict(study="iflow", preset="quick", tasks={"planar-2/U1": {}}))
  with pytest.raises(SystemExit):  # another study's results relabelled
    cli.main(["report", "--out", str(tmp_path)])
  assert "lacks finished study/<model>/<seed> tasks" in capsys.readouterr().err
  runner.write_json(str(path), dict(study="energy", preset="quick", tasks={}))
  with pytest.raises(ValueError, match="no finished energy task"):
    energy.report(str(tmp_path), runner.read_results(str(tmp_path), energy.STUDY))
