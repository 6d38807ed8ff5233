"""Batch normalisation as a flow step (Dinh et al. 2017, Sec. 3.7) in Keras 3."""
import keras
import tensorflow as tf

from tfp_flows.bijectors.data_affine import DataAffine


@keras.saving.register_keras_serializable(package="tfp_flows")
class BatchNorm(keras.layers.Layer):
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
    ValueError: if `event_size < 1` or `momentum` is not in [0, 1); when
      applied, for inputs of another width.
  """

  def __init__(self, event_size, momentum=0.9, epsilon=1e-5, validate_args=False, **kwargs):
    super().__init__(**kwargs)
    if int(event_size) < 1 or not 0.0 <= momentum < 1.0:
      raise ValueError(f"need event_size >= 1 and momentum in [0, 1), got "
                       f"{event_size} and {momentum}.")
    self.event_size, self.momentum = int(event_size), float(momentum)
    self.epsilon, self.validate_args = float(epsilon), bool(validate_args)
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

  def bijector(self, context=None, training=None):
    """The step as a `DataAffine` bijector (forward: latent -> data); `context` is ignored."""
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

  def call(self, x, context=None, training=None):
    """Maps data to latent (the density direction); returns `z` `[..., D]`."""
    return self.bijector(context, training).inverse(x)

  def get_config(self):
    return {**super().get_config(), "event_size": self.event_size,
            "momentum": self.momentum, "epsilon": self.epsilon,
            "validate_args": self.validate_args}
