"""`experiments.backup.TaskBackup`: a killed `fit` resumes where it stopped; a broken backup restarts."""
import os

import keras
import numpy as np
import pytest

from experiments.backup import TaskBackup

X = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
Y = X @ np.array([[1.0], [-2.0], [0.5]], "float32")


class Kill(keras.callbacks.Callback):
  """Stands in for a killed process: raises after epoch `at` (once its backup was written)."""

  def __init__(self, at):
    super().__init__()
    self.at = at

  def on_epoch_end(self, epoch, logs=None):
    if epoch == self.at:
      raise KeyboardInterrupt


def _model():
  model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
  model.compile(keras.optimizers.Adam(0.1), loss="mse")
  return model


def test_a_killed_fit_resumes_from_its_last_epoch_with_weights_and_optimizer(tmp_path):
  folder = str(tmp_path / "backup")
  keras.utils.set_random_seed(0)
  first = _model()
  with pytest.raises(KeyboardInterrupt):
    first.fit(X, Y, epochs=4, verbose=0, callbacks=[TaskBackup(folder, every_seconds=0), Kill(at=1)])
  assert os.path.isdir(folder)
  again = _model()  # a fresh process: other initial weights, an unbuilt optimizer
  assert not np.allclose(again.get_weights()[0], first.get_weights()[0])
  seen = []
  restored = keras.callbacks.LambdaCallback(on_train_begin=lambda logs: seen.append(
      (again.get_weights()[0].copy(), int(again.optimizer.iterations.numpy()))))
  history = again.fit(X, Y, epochs=4, verbose=0, callbacks=[TaskBackup(folder, every_seconds=0), restored])
  np.testing.assert_array_equal(seen[0][0], first.get_weights()[0])  # the epoch-1 weights
  assert seen[0][1] == first.optimizer.iterations.numpy() == 2  # 2 epochs of one batch
  assert history.epoch == [2, 3]
  assert not os.path.exists(folder)  # deleted at the end of fit
  assert again._initial_epoch is None  # a reused model starts its next fit at epoch 0
  assert len(again.fit(X, Y, epochs=2, verbose=0, callbacks=[TaskBackup(folder, every_seconds=0)]).epoch) == 2


def test_a_broken_backup_is_named_and_the_task_trains_from_scratch(tmp_path):
  folder = str(tmp_path / "backup")
  with pytest.raises(KeyboardInterrupt):
    _model().fit(X, Y, epochs=3, verbose=0, callbacks=[TaskBackup(folder, every_seconds=0), Kill(at=0)])
  for name in os.listdir(folder):
    if name.endswith(".h5"):
      with open(os.path.join(folder, name), "wb") as f:
        f.write(b"truncated")
  model = _model()
  initial = model.get_weights()[0].copy()
  seen = []
  check = keras.callbacks.LambdaCallback(
      on_train_begin=lambda logs: seen.append(model.get_weights()[0].copy()))
  with pytest.warns(UserWarning, match=f"backup in {folder} cannot be restored.*from scratch"):
    history = model.fit(X, Y, epochs=3, verbose=0, callbacks=[TaskBackup(folder, every_seconds=0), check])
  np.testing.assert_array_equal(seen[0], initial)
  assert history.epoch == [0, 1, 2]


def test_a_backup_that_cannot_be_written_warns_and_training_goes_on(tmp_path):
  blocked = tmp_path / "backup"
  blocked.write_text("a file where the backup folder should be")  # as a file another holds
  with pytest.warns(UserWarning) as caught:
    history = _model().fit(X, Y, epochs=2, verbose=0, callbacks=[TaskBackup(str(blocked), every_seconds=0)])
  assert history.epoch == [0, 1]
  messages = [str(w.message) for w in caught]
  assert any(f"cannot write the backup in {blocked}" in m and "epoch 2 is not backed up" in m
             for m in messages), messages
  assert any(f"cannot delete the backup in {blocked}" in m for m in messages), messages


def test_backups_are_at_most_once_per_interval(tmp_path):
  folder = str(tmp_path / "backup")
  with pytest.raises(KeyboardInterrupt):  # three short epochs, well inside one hour
    _model().fit(X, Y, epochs=4, verbose=0, callbacks=[TaskBackup(folder, 3600), Kill(at=2)])
  assert not os.path.exists(folder)
