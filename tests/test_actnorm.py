"""ActNorm: data-dependent initialisation, its saved flag, bad input."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tfp_flows.layers import ActNorm


def _data(seed=0):
  return tf.constant(np.random.default_rng(seed).normal([1.0, -2.0], [3.0, 0.5], [256, 2]),
                     tf.float32)


def test_first_training_batch_normalises_and_sets_flag():
  step, x = ActNorm(2), _data()
  z = tf.function(lambda x: step(x, training=True))(x)
  np.testing.assert_allclose(tf.reduce_mean(z, 0), 0.0, atol=1e-5)
  np.testing.assert_allclose(tf.math.reduce_std(z, 0), 1.0, atol=1e-4)
  assert step.initialized.numpy()
  before = step.loc.numpy().copy()
  step(_data(1) + 5.0, training=True)  # a later batch does not re-initialise
  np.testing.assert_array_equal(step.loc.numpy(), before)


def test_inference_does_not_initialise():
  step = ActNorm(2)
  np.testing.assert_allclose(step(_data()), _data())
  assert not step.initialized.numpy()


def test_reloaded_flag_prevents_reinitialisation(tmp_path):
  step = ActNorm(2)
  step(_data(), training=True)
  model = keras.Sequential([keras.Input((2,)), step])
  model.save(tmp_path / "m.keras")
  loaded = keras.saving.load_model(tmp_path / "m.keras").layers[0]
  assert loaded.initialized.numpy()
  loaded(_data(2) * 10.0, training=True)
  np.testing.assert_allclose(loaded.loc.numpy(), step.loc.numpy())


def test_wrong_width_is_a_value_error():
  with pytest.raises(ValueError, match=r"\[\.\.\., 2\].*\(4, 3\)"):
    ActNorm(2)(tf.zeros([4, 3]))
