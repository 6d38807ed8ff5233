"""Training K independent models at once: per-model learning rates for stacked weights.

A model built with `num_models=K` keeps every trainable weight with a leading
axis of size K and its loss is the sum of the K models' losses, so each
model's gradient is its own. Adam is elementwise, so the K models train
exactly as K separate runs would, except for one thing an optimizer shares:
the learning rate. Keras' `ReduceLROnPlateau` lowers one rate for all; here
`StackedAdam` keeps a rate scale per model and `PerModelReduceLROnPlateau`
lowers each model's on its own plateau. With K = 1 the pair behaves as
`keras.optimizers.Adam` with `keras.callbacks.ReduceLROnPlateau(monitor="loss")`.
"""
import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="tfp_flows")
class StackedAdam(keras.optimizers.Adam):
  """Adam whose learning rate is multiplied by a per-model scale along each weight's axis 0.

  Args:
    num_models: K, the size of the leading axis of every trainable weight
      (1 for an ordinary model: the scale then broadcasts over everything).
    **kwargs: passed to `keras.optimizers.Adam`.
  """

  def __init__(self, num_models=1, **kwargs):
    super().__init__(**kwargs)
    self.num_models = int(num_models)
    self.lr_scale = keras.Variable(np.ones(self.num_models, "float32"), trainable=False,
                                   name="lr_scale")

  def update_step(self, gradient, variable, learning_rate):
    if self.num_models == 1 and not self.amsgrad and keras.backend.backend() == "tensorflow":
      return self._fused_update(gradient, variable, learning_rate)
    rank = len(variable.shape)
    if self.num_models > 1 and (rank == 0 or variable.shape[0] != self.num_models):
      raise ValueError(f"variable {variable.path} has shape {variable.shape}; with "
                       f"num_models={self.num_models} every trainable weight needs a "
                       "leading model axis.")
    scale = ops.reshape(ops.cast(self.lr_scale, variable.dtype),
                        (self.num_models,) + (1,) * max(rank - 1, 0))
    if self.num_models == 1:
      scale = ops.reshape(scale, ())
    else:
      # A stopped model (scale 0, see `AuxiliaryVariableModel`) may send non-finite
      # gradients; zeroing them keeps its moments finite and its weights fixed.
      gradient = ops.where(scale > 0, gradient, ops.zeros_like(gradient))
    super().update_step(gradient, variable, ops.cast(learning_rate, variable.dtype) * scale)

  def _fused_update(self, gradient, variable, learning_rate):
    """Adam in one `ResourceApplyAdam` kernel per weight (as `tf_keras`), same arithmetic."""
    import tensorflow as tf

    index = self._get_variable_index(variable)
    dtype = variable.dtype
    step = ops.cast(self.iterations + 1, dtype)
    lr = ops.cast(learning_rate, dtype) * ops.reshape(ops.cast(self.lr_scale, dtype), ())
    tf.raw_ops.ResourceApplyAdam(
        var=variable.handle, m=self._momentums[index].handle,
        v=self._velocities[index].handle,
        beta1_power=ops.power(ops.cast(self.beta_1, dtype), step),
        beta2_power=ops.power(ops.cast(self.beta_2, dtype), step), lr=lr,
        beta1=ops.cast(self.beta_1, dtype), beta2=ops.cast(self.beta_2, dtype),
        epsilon=ops.cast(self.epsilon, dtype), grad=gradient, use_locking=False)

  def reset(self, learning_rate):
    """Restart from scratch (moments, step count, rate scales) for a new run of the same model."""
    if self.built:
      for v in self._momentums + self._velocities:
        v.assign(ops.zeros_like(v))
    self.iterations.assign(0)
    self.learning_rate = learning_rate
    self.lr_scale.assign(np.ones(self.num_models, "float32"))

  def get_config(self):
    return {**super().get_config(), "num_models": self.num_models}


# Chosen by `benchmarks/iflow_train_step.py` on a 2-core CPU (docs/benchmarks.md): the
# stack size with the lowest time per seed-iteration of the paper-size iFlow under XLA.
CPU_NUM_MODELS = 16
# Estimated bytes per stacked paper-size iFlow (2.9 M float32 parameters with gradient and
# two Adam moments, 47 MB, plus batch-64 activations kept for the gradient and XLA's
# temporaries, about 25 MB, with a safety factor of 1.5); docs/iflow.md derives it.
GPU_BYTES_PER_MODEL = 110 * 2**20


def auto_num_models(num_seeds, device=None, bytes_per_model=GPU_BYTES_PER_MODEL,
                    memory_bytes=None):
  """How many seeds to stack for `--parallel auto`.

  On a CPU, `CPU_NUM_MODELS` (the measured fastest per seed-iteration); on a
  GPU, as many as fit in 80% of its memory at `bytes_per_model` each. Never
  more than `num_seeds`.

  Args:
    num_seeds: the number of seeds still to train (>= 1).
    device: a TensorFlow device string such as "/GPU:0" or "/CPU:0"; default
      the first GPU if there is one, else the CPU.
    bytes_per_model: memory of one stacked model, bytes.
    memory_bytes: the device's memory, bytes; default read from `nvidia-smi`
      for a GPU (16 GiB assumed if it cannot be read).

  Returns:
    K, an int in [1, num_seeds].

  Raises:
    ValueError: if `num_seeds < 1` or `bytes_per_model <= 0`.
  """
  if int(num_seeds) < 1:
    raise ValueError(f"num_seeds must be >= 1, got {num_seeds!r}.")
  if bytes_per_model <= 0:
    raise ValueError(f"bytes_per_model must be positive, got {bytes_per_model!r}.")
  import tensorflow as tf

  if device is None:
    device = "/GPU:0" if tf.config.list_physical_devices("GPU") else "/CPU:0"
  if "GPU" not in str(device).upper():
    return min(CPU_NUM_MODELS, int(num_seeds))
  if memory_bytes is None:
    memory_bytes = _gpu_memory_bytes(device)
  return int(max(1, min(int(num_seeds), 0.8 * memory_bytes // bytes_per_model)))


def _gpu_memory_bytes(device):
  """Total memory of a GPU from `nvidia-smi`, or 16 GiB if it cannot be read."""
  import subprocess

  index = str(device).rsplit(":", 1)[-1]
  try:
    out = subprocess.run(["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits",
                          "-i", index], capture_output=True, text=True, timeout=10, check=True)
    return int(out.stdout.split()[0]) * 2**20
  except (OSError, subprocess.SubprocessError, ValueError, IndexError):
    return 16 * 2**30


def out_of_memory_message(k, device, bytes_per_model=GPU_BYTES_PER_MODEL):
  """The error text for a stack of K models that did not fit on `device`."""
  smaller = max(1, k // 2)
  return (f"a stack of K={k} models ran out of memory on {device} (estimated "
          f"{k * bytes_per_model / 2**30:.1f} GiB asked for at {bytes_per_model / 2**20:.0f} MiB "
          f"per model); rerun with --parallel {smaller}.")


class PerModelReduceLROnPlateau(keras.callbacks.Callback):
  """Multiply a model's learning rate by `factor` after `patience` epochs without improvement.

  The rule is Keras' `ReduceLROnPlateau` (improvement: epoch loss below the
  best by more than `min_delta`), applied to each of the K models' epoch-mean
  losses, which the model reports through `pop_model_losses()`. Needs the
  model's optimizer to be a `StackedAdam`.

  Args:
    factor: multiplier of the learning rate, e.g. 0.25.
    patience: epochs without improvement before a reduction.
    min_delta: smallest decrease that counts as an improvement.
    min_lr: lower bound of each model's learning rate.
  """

  def __init__(self, factor=0.25, patience=10, min_delta=1e-4, min_lr=0.0):
    super().__init__()
    self.factor, self.patience = factor, patience
    self.min_delta, self.min_lr = min_delta, min_lr

  def on_train_begin(self, logs=None):
    k = self.model.optimizer.num_models
    self.best, self.wait = np.full(k, np.inf), np.zeros(k, int)

  def on_epoch_end(self, epoch, logs=None):
    losses = self.model.pop_model_losses()
    opt = self.model.optimizer
    improved = losses < self.best - self.min_delta
    self.best = np.where(improved, losses, self.best)
    self.wait = np.where(improved, 0, self.wait + 1)
    reduce = self.wait >= self.patience
    if reduce.any():
      base = float(ops.convert_to_numpy(opt.learning_rate))
      scale = ops.convert_to_numpy(opt.lr_scale)
      floor = self.min_lr / base if base > 0 else 0.0
      opt.lr_scale.assign(np.where(reduce, np.maximum(scale * self.factor, floor), scale))
      self.wait = np.where(reduce, 0, self.wait)
    if logs is not None:
      logs["lr_scale_min"] = float(np.min(ops.convert_to_numpy(opt.lr_scale)))
