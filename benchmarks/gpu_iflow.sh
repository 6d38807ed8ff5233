#!/usr/bin/env bash
# The 100-seed iFlow vs iVAE table on a GPU machine, timed (docs/iflow.md, "On a GPU").
#
# NOT RUN ON A GPU YET: no machine available to this project has a GPU with TensorFlow.
# The test suite dry-runs this script on the CPU at a tiny size (DRY_RUN=1).
#
# Usage (from the repository root, on the GPU machine):
#   bash benchmarks/gpu_iflow.sh                 # install the gpu extra, paper preset, 100 seeds
# Settings (environment): PRESET (paper), SEEDS (1-100), MODELS (iflow,ivae,ivae-learned-mean),
#   PARALLEL (auto: as many seeds per stack as fit in the GPU's memory), OUT (runs/iflow-gpu),
#   DRY_RUN=1 (no install, no GPU required; for the CPU test).
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET=${PRESET:-paper}
SEEDS=${SEEDS:-1-100}
MODELS=${MODELS:-iflow,ivae,ivae-learned-mean}
PARALLEL=${PARALLEL:-auto}
OUT=${OUT:-runs/iflow-gpu}
PYTHON=${PYTHON:-python}

if [[ "${DRY_RUN:-0}" != 1 ]]; then
  $PYTHON -m pip install -e ".[gpu]"
  $PYTHON -c "import tensorflow as tf, sys; gpus = tf.config.list_physical_devices('GPU'); \
print('GPUs:', gpus); sys.exit(0 if gpus else 'no GPU visible to TensorFlow: check the driver and CUDA')"
fi
$PYTHON -c "from tfp_flows.models import stacked; print('--parallel auto picks K =', \
stacked.auto_num_models(100), 'seeds per stack on this machine')"
mkdir -p "$OUT"
start=$(date +%s)
$PYTHON -m tfp_flows.cli reproduce iflow --preset "$PRESET" --seeds "$SEEDS" --models "$MODELS" \
  --parallel "$PARALLEL" --out "$OUT"
end=$(date +%s)
$PYTHON - "$OUT" "$start" "$end" "$PRESET" "$SEEDS" "$MODELS" <<'PY'
import json, os, platform, sys
out, start, end, preset, seeds, models = sys.argv[1:]
import tensorflow as tf
record = {"preset": preset, "seeds": seeds, "models": models, "wall_seconds": int(end) - int(start),
          "devices": [d.name for d in tf.config.list_physical_devices()],
          "machine": platform.node()}
with open(os.path.join(out, "gpu_timing.json"), "w") as f:
  json.dump(record, f, indent=1)
print(json.dumps(record))
PY
echo "table: $OUT/results.md; timing: $OUT/gpu_timing.json"
