"""`FiniteGuard`: the one non-finite-loss handler of every study (through `TaskContext.callbacks`)."""
import keras
import numpy as np


def _finite(weights):
  return all(np.all(np.isfinite(w)) for w in weights)


class FiniteGuard(keras.callbacks.Callback):
  """Stops `fit` at the first non-finite loss and restores the last finite weights.

  The loss is checked after every batch callback (every `steps_per_execution` steps; Keras
  reports the running epoch mean, non-finite from the first bad step on). The weights kept
  are those at the start of training and, with `snapshot="epoch"`, at the end of every
  epoch whose loss and weights are finite (`"batch"`: after every such batch callback,
  which costs a copy of the weights each time). The reason is written to `ctx.nonfinite`,
  which the runner records with the task's result; `stopped_at` is the optimizer step at
  the stop (None if training finished).

  Args:
    ctx: the task's `runner.TaskContext` (or any object with a `nonfinite` attribute).
    snapshot: "epoch" or "batch".

  Raises:
    ValueError: for another `snapshot`.
  """

  def __init__(self, ctx, snapshot="epoch"):
    super().__init__()
    if snapshot not in ("epoch", "batch"):
      raise ValueError(f"snapshot must be 'epoch' or 'batch', got {snapshot!r}.")
    self.ctx, self.snapshot = ctx, snapshot

  def on_train_begin(self, logs=None):
    self.kept, self.kept_at, self.stopped_at = self.model.get_weights(), "the start", None
    self.ctx.nonfinite = None

  def _check(self, logs, where):
    if self.stopped_at is not None:
      return
    loss = float(np.asarray((logs or {}).get("loss", np.nan)))
    weights = self.model.get_weights()
    if np.isfinite(loss) and _finite(weights):
      self.kept, self.kept_at = weights, where
      return
    step = self.stopped_at = int(self.model.optimizer.iterations.numpy())
    self.model.stop_training = True
    self.model.set_weights(self.kept)
    self.ctx.nonfinite = (f"non-finite loss ({loss}) by iteration {step}; training stopped "
                          f"and the weights of {self.kept_at} restored")

  def on_train_batch_end(self, batch, logs=None):
    loss = (logs or {}).get("loss")
    if self.snapshot == "batch" or (loss is not None and not np.isfinite(float(np.asarray(loss)))):
      self._check(logs, f"iteration {int(self.model.optimizer.iterations.numpy())}")

  def on_epoch_end(self, epoch, logs=None):
    self._check(logs, f"epoch {epoch + 1}")
