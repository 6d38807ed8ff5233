"""benchmarks/gpu_iflow.sh, the GPU recipe, dry-run on the CPU at a tiny size."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_gpu_script_dry_run_writes_table_and_timing(tmp_path):
  out = tmp_path / "gpu"
  env = dict(os.environ, DRY_RUN="1", PRESET="quick", SEEDS="1-2", MODELS="ivae",
             PARALLEL="auto", OUT=str(out), PYTHON=sys.executable,
             PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
  run = subprocess.run(["bash", os.path.join(ROOT, "benchmarks", "gpu_iflow.sh")], env=env,
                       capture_output=True, text=True, timeout=600)
  assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
  assert "--parallel auto picks K =" in run.stdout
  timing = json.loads((out / "gpu_timing.json").read_text())
  assert timing["preset"] == "quick" and timing["wall_seconds"] >= 0
  results = json.loads((out / "results.json").read_text())
  assert "ivae" in json.dumps(results)
  assert (out / "results.md").exists()
