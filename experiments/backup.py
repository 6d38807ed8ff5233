"""`TaskBackup`: a task's `fit` resumes from its last backed-up epoch (`TaskContext.callbacks`)."""
import json
import os
import shutil
import time
import warnings

import keras


class TaskBackup(keras.callbacks.BackupAndRestore):
  """`keras.callbacks.BackupAndRestore` in a task's folder; a broken backup restarts the task.

  After an epoch, at most once every `every_seconds` (so tiny fits of many short epochs do not
  spend their time writing files), the model's weights (with the optimizer's state, which
  Keras 3 saves with them) and the epoch count go to `backup_dir`, the previous copy kept
  beside them (`double_checkpoint`), so a process killed while writing leaves a readable one.
  When the runner reruns the task (a worker that died, a command stopped and started again),
  `fit` starts from the epoch after the last saved one with those weights; when `fit` ends,
  the backup is deleted. Not restored: the data pipeline's position and random state, and the
  state of other callbacks (e.g. a learning-rate plateau counter), so a resumed run sees other
  batches than an uninterrupted one would.

  A backup that cannot be read (truncated file, wrong shapes, broken JSON) does not kill the
  rerun: a warning names the folder and the error, the folder is deleted, and the task trains
  from scratch with the weights and optimizer state it had before the attempt. A backup that
  cannot be written or deleted (two clients running the same task at once hold the same HDF5
  file, a full disk) does not stop training either: a warning names the folder, and that
  epoch is not backed up.

  Args:
    backup_dir: the folder of the backup (e.g. `--out/tasks/<key>/backup`).
    every_seconds: the least time between two backups (0: after every epoch).
  """

  def __init__(self, backup_dir, every_seconds=60.0):
    super().__init__(backup_dir, double_checkpoint=True)
    self.every_seconds, self._saved_at = every_seconds, None

  def on_train_begin(self, logs=None):
    self._saved_at = time.monotonic()
    if not os.path.isdir(self.backup_dir):
      return
    optimizer = self.model.optimizer
    before = (self.model.get_weights(),
              [v.numpy() for v in optimizer.variables] if optimizer and optimizer.built else None)
    try:
      super().on_train_begin(logs)
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as e:
      warnings.warn(f"TaskBackup: the backup in {self.backup_dir} cannot be restored "
                    f"({type(e).__name__}: {e}); it is deleted and the task trains from scratch.")
      shutil.rmtree(self.backup_dir, ignore_errors=True)
      self.model.set_weights(before[0])
      for v, value in zip(optimizer.variables if before[1] is not None else [], before[1] or []):
        v.assign(value)

  def on_epoch_end(self, epoch, logs=None):
    if time.monotonic() - self._saved_at < self.every_seconds:
      return
    self._saved_at = time.monotonic()
    try:
      super().on_epoch_end(epoch, logs)
    except OSError as e:
      warnings.warn(f"TaskBackup: cannot write the backup in {self.backup_dir} "
                    f"({type(e).__name__}: {e}); epoch {epoch + 1} is not backed up.")

  def on_train_end(self, logs=None):
    try:
      super().on_train_end(logs)
    except OSError as e:
      warnings.warn(f"TaskBackup: cannot delete the backup in {self.backup_dir} "
                    f"({type(e).__name__}: {e}).")
    self.model._initial_epoch = None  # pylint: disable=protected-access  # a reused model
