"""A dense layer with an optional autoregressive mask and an optional stacked model axis."""
import math

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="tfp_flows")
class Dense(keras.layers.Layer):
  """Affine map `y = x @ (W * mask) + b`, optionally for K independent models at once.

  One piece serves plain MLPs (no mask), MADE (a fixed 0/1 mask) and ensembles
  of independent models trained side by side (`num_models=K`), where every
  weight carries a leading model axis and input and output carry a model axis
  just before the feature axis. The weights are initialised like PyTorch's
  `nn.Linear` (uniform in +-1/sqrt(fan_in)), which is what the reference
  implementations of the reproduced papers use.

  Shapes:
    * `num_models=None`: input `[..., in]`, output `[..., units]`, kernel `[in, units]`.
    * `num_models=K`: input `[..., K, in]`, output `[..., K, units]`, kernel `[K, in, units]`.

  Args:
    units: number of outputs.
    mask: optional `[in, units]` array of 0/1; masked weights never act.
    num_models: optional K for stacked independent models.
    kernel_scale: optional bound of a uniform kernel initialiser (e.g. 1e-3 for
      near-zero initialisation of a residual block's last layer); the default
      is 1/sqrt(in).
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    ValueError: if `units` is not positive, or the mask shape does not match
      `[in, units]` once the input width is known.
  """

  def __init__(self, units, mask=None, num_models=None, kernel_scale=None, **kwargs):
    super().__init__(**kwargs)
    if int(units) <= 0:
      raise ValueError(f"units must be positive, got {units}.")
    self.units = int(units)
    self.mask = None if mask is None else np.asarray(mask, dtype="float32")
    self.num_models = num_models
    self.kernel_scale = kernel_scale

  def build(self, input_shape):
    fan_in = int(input_shape[-1])
    if self.mask is not None and self.mask.shape != (fan_in, self.units):
      raise ValueError(
          f"mask has shape {self.mask.shape}, expected {(fan_in, self.units)} "
          "([input width, units]).")
    stack = () if self.num_models is None else (int(self.num_models),)
    bound = 1.0 / math.sqrt(fan_in)
    kbound = bound if self.kernel_scale is None else self.kernel_scale
    self.kernel = self.add_weight(
        name="kernel", shape=stack + (fan_in, self.units),
        initializer=keras.initializers.RandomUniform(-kbound, kbound))
    self.bias = self.add_weight(
        name="bias", shape=stack + (self.units,),
        initializer=keras.initializers.RandomUniform(-kbound, kbound))

  def call(self, x):
    kernel = self.kernel
    if self.mask is not None:
      kernel = kernel * ops.cast(self.mask, kernel.dtype)
    # Flattened matmuls: tf.einsum with an ellipsis is ~50x slower in the gradient.
    if self.num_models is None and len(x.shape) == 2:
      return ops.matmul(x, kernel) + self.bias
    lead = ops.shape(x)[:-1]
    if self.num_models is None:
      y = ops.matmul(ops.reshape(x, (-1, ops.shape(x)[-1])), kernel)
    else:
      k = int(self.num_models)
      flat = ops.transpose(ops.reshape(x, (-1, k, ops.shape(x)[-1])), (1, 0, 2))
      y = ops.transpose(ops.matmul(flat, kernel), (1, 0, 2))
    return ops.reshape(y, tuple(lead) + (self.units,)) + self.bias

  def get_config(self):
    config = super().get_config()
    config.update(
        units=self.units,
        mask=None if self.mask is None else self.mask.tolist(),
        num_models=self.num_models, kernel_scale=self.kernel_scale)
    return config
