"""BatchNorm step: batch statistics in training, moving statistics otherwise, validation."""
import numpy as np
import pytest
import tensorflow as tf

from tfp_flows.layers import BatchNorm, Flow, Permutation


def _data():
  return tf.constant(np.random.default_rng(0).normal([2.0, -1.0], [4.0, 0.5], [512, 2]),
                     tf.float32)


def test_training_uses_batch_statistics_and_moves_the_moving_ones():
  step, x = BatchNorm(2, momentum=0.5), _data()
  b = step.bijector(training=True)
  z = b.inverse(x)
  np.testing.assert_allclose(tf.reduce_mean(z, 0), 0.0, atol=1e-5)
  np.testing.assert_allclose(tf.math.reduce_std(z, 0), 1.0, atol=1e-3)
  mean, var = tf.nn.moments(x, [0])
  np.testing.assert_allclose(step.moving_mean, 0.5 * mean, rtol=1e-5)
  np.testing.assert_allclose(step.moving_variance, 0.5 + 0.5 * var, rtol=1e-5)
  # log|det dz/dx| from the same batch statistics, computed once per batch
  np.testing.assert_allclose(b.inverse_log_det_jacobian(x, 1),
                             -0.5 * tf.reduce_sum(tf.math.log(var + step.epsilon)), rtol=1e-5)
  np.testing.assert_allclose(step.moving_mean, 0.5 * mean, rtol=1e-5)


def test_inference_uses_moving_statistics():
  step, x = BatchNorm(2), _data()
  np.testing.assert_allclose(step(x), x / np.sqrt(1.0 + step.epsilon), rtol=1e-6)
  np.testing.assert_allclose(step.moving_mean, 0.0)


def test_validate_args_reports_a_negative_variance():
  step = BatchNorm(2, validate_args=True)
  step.moving_variance.assign([1.0, -1.0])
  with pytest.raises(tf.errors.InvalidArgumentError, match="variance"):
    step(_data())


def test_bad_arguments():
  with pytest.raises(ValueError, match="momentum"):
    BatchNorm(2, momentum=1.0)
  with pytest.raises(ValueError, match=r"\[\.\.\., 2\]"):
    BatchNorm(2)(tf.zeros([3, 1]))


def test_inside_a_flow_log_prob_updates_the_moving_statistics_once():
  step, x = BatchNorm(2, momentum=0.5), _data()
  flow = Flow([Permutation(2, kind="reverse"), step], event_size=2)
  log_p = tf.function(lambda x: flow(x, training=True))(x)
  mean, _ = tf.nn.moments(x[:, ::-1], [0])
  np.testing.assert_allclose(step.moving_mean, 0.5 * mean, rtol=1e-5)
  assert np.isfinite(log_p.numpy()).all()
