"""`reproduce survae-mnist` end to end on the quick preset (one model, two steps), resume, bad options."""
import json

import pytest

from experiments import runner
from tfp_flows import cli


def test_quick_study_runs_reports_approx_and_resumes(tmp_path, mnist_data_dir):
  out = tmp_path / "out"
  argv = ["reproduce", "survae-mnist", "--preset", "quick", "--out", str(out),
          "--data-dir", mnist_data_dir, "--models", "reproduction", "--fit-steps", "4"]
  assert cli.main(argv) == 0
  results = json.loads((out / "results.json").read_text())
  assert sorted(results["tasks"]) == ["classifier", "model/reproduction"]
  task = results["tasks"]["model/reproduction"]
  assert task["likelihood"] == "approximate" and task["nonfinite"] is None
  assert 0 < task["test_bits_per_dim"] < 9 and task["test_bits_per_dim_se"] > 0
  assert set(task["sample_accuracy"]) == {"1.0", "0.7"}
  markdown = (out / "results.md").read_text()
  assert "(approx.)" in markdown and "| reproduction | approx. |" in markdown
  for name in ("training_curves.png", "samples_reproduction_T1.0.png", "latents_reproduction.png"):
    assert (out / name).stat().st_size > 0
  stamp = (out / "results.json").stat().st_mtime
  assert cli.main(argv) == 0  # every task finished: nothing is retrained
  assert json.loads((out / "results.json").read_text())["tasks"] == results["tasks"]
  assert (out / "results.json").stat().st_mtime == stamp


@pytest.mark.parametrize("option,value,match", [("--models", "baseline,glow", "--models"),
                                                ("--fit-steps", "0", "--fit-steps")])
def test_bad_options_are_rejected_before_work(tmp_path, option, value, match):
  with pytest.raises(ValueError, match=match):
    runner.reproduce("survae-mnist", ["--out", str(tmp_path / "o"), option, value])
  assert not (tmp_path / "o").exists()
