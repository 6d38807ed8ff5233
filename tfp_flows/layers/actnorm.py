"""Activation normalisation (ActNorm, Kingma & Dhariwal 2018) with data-dependent initialisation."""
import keras
import tensorflow as tf

from tfp_flows.checks import check_positive
from tfp_flows.bijectors.data_affine import DataAffine
from tfp_flows.layers.step import FlowStep


@keras.saving.register_keras_serializable(package="tfp_flows")
class ActNorm(FlowStep):
  """Per-dimension affine step `x = loc + exp(log_scale) * z` (Glow, Sec. 3.1).

  On the first data batch it sees in training (`bijector(training=True)`
  then `inverse(x)`, as `log_prob` does), it sets `loc` to the batch mean and
  `log_scale` to the log of the batch standard deviation, so the latent of
  that batch has zero mean and unit variance per dimension; from then on both
  are ordinary trainable weights. A non-trainable `initialized` flag is
  saved with the weights, so a reloaded model is not initialised again.
  Sampling before initialisation uses the identity.

  Shapes: `[..., D]`; log-dets `[...]`.

  Args:
    event_size: D.
    epsilon: added to the batch standard deviation at initialisation.
    validate_args: passed to `DataAffine` (checks parameters are finite).
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: if `event_size` is not an integer.
    ValueError: if `event_size < 1` or `epsilon` is not positive and finite;
      when applied, for inputs of another width or any context.
  """

  def __init__(self, event_size, epsilon=1e-6, validate_args=False, **kwargs):
    super().__init__(event_size, None, **kwargs)
    self.epsilon = check_positive(type(self).__name__, "epsilon", epsilon)
    self.validate_args = bool(validate_args)
    self.loc = self.add_weight(name="loc", shape=(self.event_size,), initializer="zeros")
    self.log_scale = self.add_weight(name="log_scale", shape=(self.event_size,),
                                     initializer="zeros")
    self.initialized = self.add_weight(name="initialized", shape=(), dtype="bool",
                                       trainable=False, initializer="zeros")

  def _initialize(self, x):
    """Sets loc and log_scale from the batch x `[..., D]` unless already initialised."""
    def init():
      flat = tf.reshape(x, [-1, self.event_size])
      mean, var = tf.nn.moments(flat, axes=[0])
      self.loc.assign(mean)
      self.log_scale.assign(tf.math.log(tf.sqrt(var) + self.epsilon))
      self.initialized.assign(True)
      return tf.constant(True)
    return tf.cond(tf.convert_to_tensor(self.initialized),
                   lambda: tf.constant(False), init)

  def make_bijector(self, context, training):
    """The step as a `DataAffine` bijector; initialises on the first batch when `training`."""
    def params_fn(x):
      if training and x is not None:
        with tf.control_dependencies([self._initialize(x)]):
          return tf.identity(self.loc), tf.identity(self.log_scale)
      return tf.convert_to_tensor(self.loc), tf.convert_to_tensor(self.log_scale)
    return DataAffine(params_fn, self.event_size, validate_args=self.validate_args)

  def get_config(self):
    return {**super().get_config(), "epsilon": self.epsilon, "validate_args": self.validate_args}
