"""`TaskBackup`: a task's `fit` resumes from its last backed-up epoch (`TaskContext.callbacks`)."""
import json
import os
import shutil
import time
import warnings

import keras
import numpy as np

HISTORY = "history.json"  # beside Keras' files in the backup folder


class TaskBackup(keras.callbacks.BackupAndRestore):
  """`keras.callbacks.BackupAndRestore` in a task's folder, kept until the task is recorded.

  After an epoch, at most once every `every_seconds` (so tiny fits of many short epochs do not
  spend their time writing files) and always after the fit's last epoch, the model's weights
  (with the optimizer's state, which Keras 3 saves with them), the epoch count and the logs of
  every epoch so far (`history.json`) go to `backup_dir`, the previous weights kept beside them
  (`double_checkpoint`), so a process killed while writing leaves a readable copy. An epoch
  whose logs hold a non-finite value is not backed up (the runner's `FiniteGuard` handles it).

  When the runner reruns the task (a worker that died, a command stopped and started again,
  an evaluation after `fit` that raised), `fit` starts from the epoch after the last saved one
  with those weights, and the `History` it returns holds the saved epochs' logs before its own
  (`history.history`; `history.epoch` lists only the epochs this call ran, as in Keras). A fit
  that was backed up after its last epoch trains nothing more. The backup is not deleted when
  `fit` ends: the runner deletes the task's backups once its result is recorded. Not restored:
  the data pipeline's position and random state, and the state of other callbacks (e.g. a
  learning-rate plateau counter), so a resumed run sees other batches than an uninterrupted one.

  A backup that cannot be read (truncated file, wrong shapes, broken JSON) does not kill the
  rerun: a warning names the folder and the error, the folder is deleted, and the task trains
  from scratch with the weights and optimizer state it had before the attempt. A backup that
  cannot be written (two clients running the same task at once hold the same HDF5 file, a full
  disk) does not stop training either: a warning names the folder, and that epoch is not
  backed up.

  Args:
    backup_dir: the folder of the backup (e.g. `--out/tasks/<key>/backup/1`).
    every_seconds: the least time between two backups (0: after every epoch).
  """

  def __init__(self, backup_dir, every_seconds=60.0):
    super().__init__(backup_dir, double_checkpoint=True, delete_checkpoint=False)
    self.every_seconds, self._saved_at, self._logs = every_seconds, None, {}

  def on_train_begin(self, logs=None):
    self._saved_at, self._logs = time.monotonic(), {}
    if not os.path.isdir(self.backup_dir):
      return
    optimizer = self.model.optimizer
    before = (self.model.get_weights(),
              [v.numpy() for v in optimizer.variables] if optimizer and optimizer.built else None)
    try:
      super().on_train_begin(logs)
      self._restore_history()
    except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as e:
      warnings.warn(f"TaskBackup: the backup in {self.backup_dir} cannot be restored "
                    f"({type(e).__name__}: {e}); it is deleted and the task trains from scratch.")
      shutil.rmtree(self.backup_dir, ignore_errors=True)
      self.model._initial_epoch = None  # pylint: disable=protected-access
      self._logs = {}
      self.model.set_weights(before[0])
      for v, value in zip(optimizer.variables if before[1] is not None else [], before[1] or []):
        v.assign(value)

  def _restore_history(self):
    """The saved logs of the restored epochs into this fit's `History`."""
    epochs = self.model._initial_epoch or 0  # pylint: disable=protected-access
    if not epochs:
      return
    with open(os.path.join(self.backup_dir, HISTORY)) as f:
      saved = json.load(f)  # written before the weights: at least `epochs` entries
    self._logs = {k: values[:epochs] for k, values in saved.items()}
    if any(len(values) != epochs for values in self._logs.values()):
      raise ValueError(f"{HISTORY} has fewer than the {epochs} epochs backed up")
    self.model.history.history.update({k: list(v) for k, v in self._logs.items()})

  def on_epoch_end(self, epoch, logs=None):
    values = {k: np.asarray(v, dtype=float) for k, v in (logs or {}).items()}  # scalars or arrays
    for k, v in values.items():
      self._logs.setdefault(k, []).append(v.tolist())
    if not all(np.all(np.isfinite(v)) for v in values.values()):
      return
    last = epoch + 1 == self.params.get("epochs")
    if not last and time.monotonic() - self._saved_at < self.every_seconds:
      return
    self._saved_at = time.monotonic()
    try:
      os.makedirs(self.backup_dir, exist_ok=True)
      path = os.path.join(self.backup_dir, HISTORY)
      with open(path + ".tmp", "w") as f:
        json.dump(self._logs, f)
      os.replace(path + ".tmp", path)
      super().on_epoch_end(epoch, logs)
    except OSError as e:
      warnings.warn(f"TaskBackup: cannot write the backup in {self.backup_dir} "
                    f"({type(e).__name__}: {e}); epoch {epoch + 1} is not backed up.")

  def on_train_end(self, logs=None):
    self.model._initial_epoch = None  # pylint: disable=protected-access  # a reused model
