"""The SIR study end to end through the CLI at the quick preset (basic variant), and bad options."""
import json
import os

import pytest

from tfp_flows import cli


@pytest.mark.slow
def test_quick_basic_run_writes_results_and_figures(tmp_path):
  argv = ["reproduce", "sir", "--preset", "quick", "--out", str(tmp_path), "--variants", "basic"]
  assert cli.main(argv) == 0
  results = json.load(open(tmp_path / "results.json"))
  assert sorted(results["tasks"]) == ["basic/flow", "reference/basic"]
  ref, flow = results["tasks"]["reference/basic"], results["tasks"]["basic/flow"]
  assert len(ref["max_rhat"]) == 2 and all(r > 0.5 for r in ref["max_rhat"])
  assert len(flow["c2st"]) == 2 and all(0 <= c <= 1 for c in flow["c2st"])
  assert len(flow["sbc_pvalues"]) == 2 and len(flow["coverage"]) == len(flow["coverage_levels"])
  assert flow["loss"][-1] < flow["loss"][0]
  for name in ("results.md", "sbc_ranks.png", "coverage.png", "resimulation.png",
               "pairs_basic_flow.png"):
    assert os.path.getsize(tmp_path / name) > 0
  assert "| basic/flow |" in open(tmp_path / "results.md").read()


@pytest.mark.parametrize("option, value, message", [
    ("--variants", "seir", "--variants"), ("--epochs", "0", "--epochs"),
    ("--seed", "-1", "--seed")])
def test_bad_options_are_rejected_before_any_task(tmp_path, capsys, option, value, message):
  with pytest.raises(SystemExit) as exit_info:
    cli.main(["reproduce", "sir", "--out", str(tmp_path), option, value])
  assert exit_info.value.code == 2 and message in capsys.readouterr().err
  assert not os.path.exists(tmp_path / "tasks")
