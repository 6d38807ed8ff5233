"""NICE diagonal scaling step (Dinh et al. 2014) as a Keras 3 layer."""
import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.layers.step import FlowStep

tfb = tfp.bijectors


@keras.saving.register_keras_serializable(package="tfp_flows")
class Scaling(FlowStep):
  """Diagonal scaling `x = exp(s) * z`, log|det| = sum(s) nats, `tfb.Scale(log_scale=s)`.

  Dinh, Krueger & Bengio (2014), "NICE", Sec. 3.3: the top layer multiplies
  the i-th output by S_ii. The paper applies S in the data -> latent
  direction, so its `S = exp(-s)` in our parameterisation, where `forward`
  (latent -> data) multiplies by `exp(s)`. `s` starts at 0 (identity).

  Shapes: inputs `[..., D]`; takes no context.

  Args:
    event_size: D.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: if `event_size` is not an integer.
    ValueError: if `event_size < 1`; when applied, for inputs of another
      width or any context.
  """

  def __init__(self, event_size, **kwargs):
    super().__init__(event_size, None, **kwargs)
    self.log_scale = self.add_weight(name="log_scale", shape=(self.event_size,),
                                     initializer="zeros")

  def make_bijector(self, context, training):
    """The step as `tfb.Scale(log_scale=s)` (elementwise; sums to sum(s) for event_ndims=1)."""
    return tfb.Scale(log_scale=tf.convert_to_tensor(self.log_scale))
