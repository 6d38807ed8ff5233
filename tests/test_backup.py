"""`experiments.backup.TaskBackup`: a killed `fit` resumes where it stopped, with its history; a
task whose evaluation failed keeps its training; a broken backup restarts."""
import json
import os

import keras
import numpy as np
import pytest

from experiments import runner
from experiments.backup import TaskBackup

X = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
Y = X @ np.array([[1.0], [-2.0], [0.5]], "float32")


class Kill(keras.callbacks.Callback):
  """Stands in for a killed process: raises after epoch `at` (once its backup was written)."""

  def __init__(self, at):
    super().__init__()
    self.at, self.losses = at, []

  def on_epoch_end(self, epoch, logs=None):
    self.losses.append(logs["loss"])
    if epoch == self.at:
      raise KeyboardInterrupt


def _model():
  model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
  model.compile(keras.optimizers.Adam(0.1), loss="mse")
  return model


def test_a_killed_fit_resumes_from_its_last_epoch_with_weights_optimizer_and_history(tmp_path):
  folder = str(tmp_path / "backup")
  keras.utils.set_random_seed(0)
  first, kill = _model(), Kill(at=1)
  with pytest.raises(KeyboardInterrupt):
    first.fit(X, Y, epochs=4, verbose=0, callbacks=[TaskBackup(folder, every_seconds=0), kill])
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
  assert len(history.history["loss"]) == 4  # the killed run's two epochs, then these two
  np.testing.assert_allclose(history.history["loss"][:2], kill.losses, rtol=1e-6)
  assert os.path.isdir(folder)  # kept: the runner deletes it once the task is recorded
  assert again._initial_epoch is None  # a reused model starts its next fit at epoch 0
  assert len(again.fit(X, Y, epochs=2, verbose=0, callbacks=[TaskBackup(str(tmp_path / "b2"), 0)]).epoch) == 2


def test_a_fit_backed_up_at_its_end_trains_nothing_more_and_returns_its_history(tmp_path):
  folder = str(tmp_path / "backup")
  keras.utils.set_random_seed(0)
  first = _model()
  done = first.fit(X, Y, epochs=3, verbose=0, callbacks=[TaskBackup(folder, every_seconds=3600)])
  with open(os.path.join(folder, "training_metadata.json")) as f:
    assert json.load(f)["epoch"] == 3  # the last epoch is backed up whatever the interval
  again = _model()
  history = again.fit(X, Y, epochs=3, verbose=0, callbacks=[TaskBackup(folder, every_seconds=3600)])
  assert history.epoch == [] and history.history["loss"] == pytest.approx(done.history["loss"])
  for a, b in zip(again.get_weights(), first.get_weights()):
    np.testing.assert_array_equal(a, b)


class _Evaluation:
  """A task that fits 3 epochs, then raises the first time it evaluates (a crash after fit)."""

  @staticmethod
  def run_task(key, config, ctx):
    keras.utils.set_random_seed(0)
    model = _model()
    history = model.fit(X, Y, epochs=3, verbose=0, callbacks=ctx.callbacks())
    failed = os.path.join(ctx.out, "evaluation-failed")
    if not os.path.exists(failed):
      with open(failed, "w") as f:
        json.dump(history.history["loss"], f)
      raise RuntimeError("evaluation failed")
    return dict(epochs_run=history.epoch, loss=history.history["loss"],
                steps=int(model.optimizer.iterations.numpy()))


STUDY = runner.Study("backup-fixture", {"quick": {}}, lambda args, preset: dict(preset),
                     lambda config: ["fit/1"], _Evaluation.run_task, lambda out, results: "")
STUDY.module = __name__


def test_a_task_whose_evaluation_failed_keeps_its_training_until_recorded(tmp_path):
  out = str(tmp_path)
  with pytest.raises(RuntimeError, match="1 tasks did not finish"):
    runner.run(STUDY, ["--out", out])
  backup = tmp_path / "tasks" / "fit" / "1" / "backup"
  assert (backup / "1" / "latest.weights.h5").exists()  # the task's first (and only) fit
  runner.run(STUDY, ["--out", out])
  result = json.load(open(tmp_path / "results.json"))["tasks"]["fit/1"]
  assert result["epochs_run"] == [] and result["steps"] == 3  # nothing trained again
  assert result["loss"] == pytest.approx(json.load(open(tmp_path / "evaluation-failed")))
  assert not backup.exists()  # deleted once the result was recorded


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
  assert history.epoch == [0, 1, 2] and len(history.history["loss"]) == 3


def test_a_backup_that_cannot_be_written_warns_and_training_goes_on(tmp_path):
  blocked = tmp_path / "backup"
  blocked.write_text("a file where the backup folder should be")  # as a file another holds
  with pytest.warns(UserWarning) as caught:
    history = _model().fit(X, Y, epochs=2, verbose=0, callbacks=[TaskBackup(str(blocked), every_seconds=0)])
  assert history.epoch == [0, 1]
  messages = [str(w.message) for w in caught]
  assert any(f"cannot write the backup in {blocked}" in m and "epoch 2 is not backed up" in m
             for m in messages), messages


def test_backups_are_at_most_once_per_interval_and_never_of_a_non_finite_epoch(tmp_path):
  folder = str(tmp_path / "backup")
  with pytest.raises(KeyboardInterrupt):  # three short epochs, well inside one hour
    _model().fit(X, Y, epochs=4, verbose=0, callbacks=[TaskBackup(folder, 3600), Kill(at=2)])
  assert not os.path.exists(folder)
  nan = np.full_like(Y, np.nan)
  _model().fit(X, nan, epochs=2, verbose=0, callbacks=[TaskBackup(folder, every_seconds=0)])
  assert not os.path.exists(folder)


def test_array_valued_logs_are_backed_up_and_restored(tmp_path):
  """A stacked model (iflow's K models in one) may log one value per model."""
  folder = str(tmp_path / "backup")
  model = _model()
  model.fit(X, Y, epochs=1, verbose=0)  # builds the weights and the optimizer
  backup = TaskBackup(folder, every_seconds=0)
  backup.set_model(model)
  backup.set_params({"epochs": 2})
  backup.on_train_begin()
  backup.on_epoch_end(0, {"loss": np.array([1.5, 2.5], "float32")})
  with open(os.path.join(folder, "history.json")) as f:
    assert json.load(f) == {"loss": [[1.5, 2.5]]}
  backup.on_epoch_end(1, {"loss": np.array([np.nan, 2.0])})  # one model non-finite: no backup
  with open(os.path.join(folder, "training_metadata.json")) as f:
    assert json.load(f)["epoch"] == 1
