"""What runs one task of a study: in the runner's process (`--workers 1`) or on a Dask worker.

Part of `experiments.runner` (which re-exports `TaskContext`, `task_folder` and
`quiet_tensorflow`); see its docstring for the study contract. `execute` is the function the
runner calls, or submits to Dask (`experiments.dask_backend`), for each unit of tasks.
"""
import importlib
import json
import logging
import os
import re
import sys
import tempfile
import time

# Lines TensorFlow and CUDA write to stderr on a machine without a GPU; anything else shows.
NOISE = re.compile(r"All log messages before absl::InitializeLog|port\.cc:\d+\] oneDNN|"
                   r"cudart_stub\.cc|failed call to cuInit|cpu_feature_guard\.cc|"
                   r"^To enable the following instructions|Unable to register cu(DNN|FFT|BLAS)|"
                   r"computation_placer\.cc")

_QUIET = []  # set once TensorFlow's devices were discovered with the noise filtered


def _not_tfds_dtype_notice(record):
  """False for the deprecation notice tfds's own `Tensor.decode_example` triggers (tfds 4.9:
  it reads `self.dtype`), printed once per feature on every dataset load; a user cannot act on it."""
  return "`FeatureConnector.dtype` is deprecated" not in record.getMessage()


def quiet_tensorflow():
  """Imports TensorFlow and discovers its devices with the CUDA/GPU start-up log lines dropped.

  Sets `TF_CPP_MIN_LOG_LEVEL=1` (no INFO) unless set, and filters what TF writes to the
  stderr file descriptor during import and device discovery (`failed call to cuInit`, the
  absl pre-init notice, oneDNN/CPU-feature notes) through `NOISE`; any other line is passed
  on. Python warnings are untouched; of absl's log, only tfds's `FeatureConnector.dtype`
  deprecation notice (raised inside tfds itself) is dropped. Runs once per process (the CLI and
  each Dask worker).
  """
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
  if _QUIET:
    return
  _QUIET.append(True)
  logging.getLogger("absl").addFilter(_not_tfds_dtype_notice)
  sys.stderr.flush()
  saved = os.dup(2)
  with tempfile.TemporaryFile(mode="w+") as tmp:
    os.dup2(tmp.fileno(), 2)
    try:
      import tensorflow as tf

      tf.config.list_physical_devices()
    finally:
      os.dup2(saved, 2)
      os.close(saved)
      tmp.seek(0)
      sys.stderr.write("".join(line for line in tmp if not NOISE.search(line)))


def task_folder(out, key):
  """`out/tasks/<key>`: the folder of one task's files (not created)."""
  return os.path.join(out, "tasks", *key.split("/"))


class TaskContext:
  """What a task gets from the runner: its folders, callbacks, inputs (see `experiments.runner`)."""

  def __init__(self, out, key, members=None, verbose=0, inputs=None):
    self.out, self.key, self.members = out, key, list(members or [key])
    self.verbose, self.inputs, self.nonfinite = verbose, dict(inputs or {}), None
    self._fits = 0  # calls of `callbacks(backup=True)`: one backup folder per fit

  @property
  def folder(self):
    """`--out/tasks/<key>` of this task (or unit), created on first use."""
    return self.folder_of(self.key)

  def folder_of(self, key):
    """`--out/tasks/<key>`, created."""
    path = task_folder(self.out, key)
    os.makedirs(path, exist_ok=True)
    return path

  def callbacks(self, snapshot="epoch", backup=True):
    """The callbacks of a task's `fit`: `[TaskBackup, TensorBoard, FiniteGuard]`.

    `TaskBackup(<folder>/backup/<n>)` for the task's n-th fit (if `backup`; a study with its
    own resumable checkpoint passes False) resumes a rerun task's `fit` from its last backup
    (an epoch's end, at most a minute apart, and the fit's last epoch); the runner deletes
    `<folder>/backup` once the task's result is recorded. TensorBoard logs to
    `--out/tensorboard/<key>`; `FiniteGuard(self, snapshot)` handles a non-finite loss. The
    backup comes first, so the guard's first snapshot holds the restored weights.
    """
    import keras

    from experiments.backup import TaskBackup
    from experiments.finite_guard import FiniteGuard

    board = keras.callbacks.TensorBoard(os.path.join(self.out, "tensorboard", *self.key.split("/")),
                                        write_graph=False)
    restore = []
    if backup:
      self._fits += 1
      restore = [TaskBackup(os.path.join(self.folder, "backup", str(self._fits)))]
    return [*restore, board, FiniteGuard(self, snapshot)]


def execute(module, unit, members, config, out, verbose, inputs, tensorflow=True):
  """Runs one unit of `module`'s study (in this process or on a Dask worker).

  `tensorflow`: import TensorFlow first, through `quiet_tensorflow`.

  Returns:
    dict member key -> result with the runner's fields `nonfinite` (None or the guard's
    message, unless the study set it per member) and `task_seconds`.
  """
  if tensorflow:
    quiet_tensorflow()
  study = importlib.import_module(module).STUDY
  ctx = TaskContext(out, unit, members, verbose, inputs)
  start = time.time()
  result = study.run_task(unit, config, ctx)
  seconds = time.time() - start
  results = result if members != [unit] else {unit: result}
  if sorted(results) != sorted(members):
    raise ValueError(f"task {unit!r} returned results for {sorted(results)}, expected "
                     f"{sorted(members)}.")
  records = {}
  for key, value in results.items():
    value = dict(value)
    value.setdefault("nonfinite", ctx.nonfinite)
    value["task_seconds"] = seconds / len(members)
    json.dumps(value)  # TypeError now, not when results.json is written
    records[key] = value
  return records
