"""A multilayer perceptron built from `tfp_flows.layers.Dense`."""
import keras
from keras import ops

from tfp_flows.layers.dense import Dense


@keras.saving.register_keras_serializable(package="tfp_flows")
class MLP(keras.layers.Layer):
  """Fully connected network `in -> hidden[0] -> ... -> hidden[-1] -> units`.

  Shapes: input `[..., in]` (or `[..., K, in]` with `num_models=K`), output
  `[..., units]` (or `[..., K, units]`). No activation after the last layer.

  Args:
    hidden: sequence of hidden widths, e.g. `(30, 20)`.
    units: output width.
    activation: a Keras activation name, e.g. `"relu"`, or `"leaky_relu"`
      with negative slope `slope`.
    slope: negative slope of `"leaky_relu"` (the iVAE code uses 0.1).
    num_models: optional K for stacked independent models (see `Dense`).
    **kwargs: passed to `keras.layers.Layer`.
  """

  def __init__(self, hidden, units, activation="relu", slope=0.2, num_models=None,
               **kwargs):
    super().__init__(**kwargs)
    self.hidden = tuple(int(h) for h in hidden)
    self.units = int(units)
    self.activation_name, self.slope = activation, float(slope)
    self.activation = (
        (lambda x: ops.leaky_relu(x, negative_slope=self.slope))
        if activation == "leaky_relu" else keras.activations.get(activation))
    self.num_models = num_models
    self.dense = [Dense(w, num_models=num_models, dtype=self.dtype_policy)
                  for w in self.hidden + (self.units,)]

  def build(self, input_shape):
    for layer in self.dense:
      layer.build(input_shape)
      input_shape = tuple(input_shape[:-1]) + (layer.units,)

  def call(self, x):
    for layer in self.dense[:-1]:
      x = self.activation(layer(x))
    return self.dense[-1](x)

  def get_config(self):
    config = super().get_config()
    config.update(hidden=self.hidden, units=self.units,
                  activation=self.activation_name, slope=self.slope,
                  num_models=self.num_models)
    return config
