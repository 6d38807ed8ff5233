"""`experiments.runner` on Dask: a 2-worker LocalCluster runs a tiny iFlow study; a worker killed
mid-task loses nothing; two clients merging into one results.json keep both; broken files are
named."""
import json
import multiprocessing
import os
import re
import subprocess
import sys
import time

import pytest

import study_fixtures
from experiments import energy, iflow, runner
from tfp_flows import cli

TINY = dict(iterations=4, seeds="1-2", data=dict(n_per_segment=16, n_segments=4, dim=2, n_layers=2),
            iflow=dict(num_steps=1, hidden_units=8), jit_compile=False)


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
  assert "has no finished study/<model>/<seed> task" in capsys.readouterr().err
  runner.write_json(str(path), dict(study="energy", preset="quick", tasks={}))
  with pytest.raises(ValueError, match="no finished energy task"):
    energy.report(str(tmp_path), runner.read_results(str(tmp_path), energy.STUDY))


def test_task_plans_are_checked(tmp_path):
  def study(keys, depends):
    return runner.Study("plan", {"quick": {}}, lambda a, p: p, lambda c: keys, None, None,
                        depends=lambda k, c: depends.get(k, []))
  assert runner.plan(study(["a/1", "b/1"], {"b/1": ["a/1"]}), {}, {}) == [
      ("a/1", ["a/1"]), ("b/1", ["b/1"])]
  assert runner.plan(study(["b/1"], {"b/1": ["a/1"]}), {}, {"a/1": {}}) == [("b/1", ["b/1"])]
  for keys, depends, message in ((["a/1", "b/1"], {"a/1": ["b/1"], "b/1": ["a/1"]}, "each other"),
                                 (["b/1"], {"b/1": ["a/1"]}, "not tasks of this run"),
                                 (["a/../b"], {}, "is not of the form"),
                                 (["a/1", "a/1"], {}, "lists a task twice")):
    with pytest.raises(ValueError, match=message):
      runner.plan(study(keys, depends), {}, {})


def test_option_checks_name_the_option_the_value_and_what_was_expected():
  assert runner.choices("--models", ["a,b", "c", "a"], ["a", "b", "c"]) == ["a", "b", "c"]
  assert runner.choices("--models", "b, a", ("a", "b")) == ["b", "a"]
  assert runner.choices("--models", ["planar-3"], lambda n: n.startswith("planar-"),
                        "planar-K") == ["planar-3"]
  assert runner.integer("--parallel", "auto", 1, words=("auto",)) == "auto"
  assert runner.integer("--k", "9", 1, 9) == 9 and runner.seed("--seed", "4294967295") == 2**32 - 1
  assert runner.number("--free-bits", "0.5", 0) == 0.5
  for call, message in [
      (lambda: runner.choices("--models", ["a,x", "y"], ["a"]),
       "--models: unknown 'x', 'y'; expected names from ['a'], separated by spaces or commas."),
      (lambda: runner.choices("--models", [","], ["a"]), "--models: no name in [',']"),
      (lambda: runner.choices("--models", ["nice"], lambda n: False, "planar-K"),
       "--models: unknown 'nice'; expected planar-K,"),
      (lambda: runner.integer("--k", "10", 1, 9), "--k must be an integer in 1 .. 9, got '10'."),
      (lambda: runner.positive_int("--k", "2.5"), "--k must be an integer >= 1, got '2.5'."),
      (lambda: runner.integer("--parallel", "0", 1, words=("auto",)),
       "--parallel must be 'auto' or an integer >= 1, got '0'."),
      (lambda: runner.seed("--seed", "-1"), "--seed must be an integer in 0 .. 4294967295, got '-1'."),
      (lambda: runner.number("--free-bits", "nan", 0), "--free-bits must be a finite number >= 0"),
      (lambda: runner.number("--free-bits", "-0.1", 0), "got '-0.1'")]:
    with pytest.raises(ValueError, match=re.escape(message)):
      call()


def test_tensorflow_start_up_noise_is_dropped_and_real_warnings_show():
  """What a study command prints on a GPU-less machine: no cuInit/oneDNN/tfds-dtype lines."""
  code = ("from experiments.task import quiet_tensorflow; quiet_tensorflow(); import logging; "
          "log = logging.getLogger('absl'); "
          "log.warning('`FeatureConnector.dtype` is deprecated. Please change your code'); "
          "log.warning('a real warning')")
  env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # as a user's shell: conftest sets it for the tests
  stderr = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stderr
  assert "a real warning" in stderr
  for noise in ("cuInit", "oneDNN", "cpu_feature_guard", "FeatureConnector.dtype"):
    assert noise not in stderr, stderr


def test_a_rerun_with_other_settings_is_refused_before_any_task(tmp_path, capsys):
  out = str(tmp_path)
  argv = ["--out", out, "--targets", "U1", "--models", "planar-2", "--iterations", "20"]
  study = runner.load_study("energy")
  _, config, _, _ = runner.prepare(study, argv)
  runner.record(out, study, "quick", config, {"planar-2/U1": {"kl": 0.5}})  # a finished task
  before = json.load(open(tmp_path / "results.json"))
  with pytest.raises(SystemExit) as stop:  # another seed: its results would mix with these
    cli.main(["reproduce", "energy", *argv, "--seed", "7"])
  assert stop.value.code == 2
  assert "holds results made with other settings (seed: 0 there, 7 now)" in capsys.readouterr().err
  assert json.load(open(tmp_path / "results.json")) == before
  assert not os.path.exists(tmp_path / "tasks")
  # Choosing other tasks is a resume, not another setting: only the new task is planned.
  _, _, _, units = runner.prepare(study, [*argv[:3], "U2", *argv[4:]])
  assert units == [("planar-2/U2", ["planar-2/U2"])]
