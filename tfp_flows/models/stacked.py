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
