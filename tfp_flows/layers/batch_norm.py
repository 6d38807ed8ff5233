"""Batch normalisation as a flow step (Dinh et al. 2017, Sec. 3.7) in Keras 3."""
import keras
import tensorflow as tf

from tfp_flows.checks import check_positive
from tfp_flows.bijectors.data_affine import DataAffine
from tfp_flows.layers.step import FlowStep


@keras.saving.register_keras_serializable(package="tfp_flows")
class BatchNorm(FlowStep):
  """Batch normalisation step: density direction `z = (x - m) / sqrt(v + eps) * exp(log_gamma) + beta`.

  In training (`bijector(training=True)`), `inverse(x)` uses the batch
  mean and variance of x over all batch axes and moves the moving
  statistics towards them (`moving = momentum * moving + (1 - momentum) *
  batch`, a side effect of the call); otherwise (and always in the sampling
  direction, `forward`) the moving statistics are used, and the step is an
  exact bijection. The Jacobian treats the statistics as constants:
  log|det dz/dx| = sum(log_gamma - 0.5 log(v + eps)) (RealNVP, Sec. 3.7).
  TFP's `tfb.BatchNormalization` needs a Keras 2 layer; this is its Keras 3
  counterpart.

  Shapes: `[..., D]`; log-dets `[...]`.

  Args:
    event_size: D.
    momentum: of the moving statistics.
    epsilon: added to the variance.
    validate_args: if True, check the variance is positive and the
      parameters finite.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: if `event_size` is not an integer.
    ValueError: if `event_size < 1`, `momentum` is not in [0, 1) or
      `epsilon` is not positive and finite; when applied, for inputs of
      another width or any context.
  """

  def __init__(self, event_size, momentum=0.9, epsilon=1e-5, validate_args=False, **kwargs):
    super().__init__(event_size, None, **kwargs)
    if not 0.0 <= momentum < 1.0:
      raise ValueError(f"momentum must be in [0, 1), got {momentum!r}.")
    self.momentum = float(momentum)
    self.epsilon = check_positive(type(self).__name__, "epsilon", epsilon)
    self.validate_args = bool(validate_args)
    shape = (self.event_size,)
    self.beta = self.add_weight(name="beta", shape=shape, initializer="zeros")
    self.log_gamma = self.add_weight(name="log_gamma", shape=shape, initializer="zeros")
    self.moving_mean = self.add_weight(name="moving_mean", shape=shape,
                                       initializer="zeros", trainable=False)
    self.moving_variance = self.add_weight(name="moving_variance", shape=shape,
                                           initializer="ones", trainable=False)

  def _statistics(self, x, training):
    """Mean and variance `[D]`: of the batch x (updating the moving ones) or the moving ones."""
    if not training or x is None:
      return tf.convert_to_tensor(self.moving_mean), tf.convert_to_tensor(self.moving_variance)
    mean, var = tf.nn.moments(tf.reshape(x, [-1, self.event_size]), axes=[0])
    self.moving_mean.assign(self.momentum * self.moving_mean + (1 - self.momentum) * mean)
    self.moving_variance.assign(
        self.momentum * self.moving_variance + (1 - self.momentum) * var)
    return mean, var

  def make_bijector(self, context, training):
    """The step as a `DataAffine` bijector (forward: latent -> data)."""
    def params_fn(x):
      mean, var = self._statistics(x, training)
      var = var + self.epsilon
      if self.validate_args:
        with tf.control_dependencies([tf.debugging.assert_positive(
            var, f"{self.name}: variance + epsilon must be positive.")]):
          var = tf.identity(var)
      log_scale = 0.5 * tf.math.log(var) - self.log_gamma
      return mean - tf.exp(log_scale) * self.beta, log_scale
    return DataAffine(params_fn, self.event_size, validate_args=self.validate_args)

  def get_config(self):
    return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon,
            "validate_args": self.validate_args}
