"""Keras side of the surjection layers: gradients, float64, context, save/reload, training with fit."""
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.layers import (
    VAE, Abs, Augment, ConditionalLocScale, Max, MaxPool2D, Slice, VariationalDequantization)

tfd, tfb = tfp.distributions, tfp.bijectors


def normal(shape, dtype="float32"):
  return tfd.Sample(tfd.Normal(tf.constant(0, dtype), 1), shape)


CASES = {  # layer factory, inner event shape, x shape
    "abs": (lambda **k: Abs(3, **k), [3], [8, 3]),
    "abs_context": (lambda **k: Abs(3, context_size=2, **k), [3], [8, 3]),
    "max": (lambda **k: Max(3, **k), [], [8, 3]),
    "maxpool": (lambda **k: MaxPool2D((4, 4, 2), **k), [2, 2, 2], [8, 4, 4, 2]),
    "slice": (lambda **k: Slice(3, 1, context_size=2, **k), [1], [8, 3]),
    "augment": (lambda **k: Augment(3, 2, learned=True, context_size=2, **k), [5], [8, 3]),
    "vdeq": (lambda **k: VariationalDequantization(3, num_bits=3, **k), [3], [8, 3]),
    "vae": (lambda **k: VAE(ConditionalLocScale(2, 3, **k), ConditionalLocScale(3, 2, **k),
                            (3,), **k), [2], [8, 3]),
}


def data(name, shape, dtype):
  x = tf.random.stateless_normal(shape, seed=(1, 2), dtype=dtype)
  return tf.floor(tf.abs(x) * 3) if name == "vdeq" else x


def context_for(name, dtype):
  return tf.ones([8, 2], dtype) if name in ("abs_context", "slice", "augment") else None


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gradients_reach_every_variable_and_dtype(name, dtype):
  make, inner_shape, x_shape = CASES[name]
  layer = make(dtype=dtype)
  x, context = data(name, x_shape, dtype), context_for(name, dtype)
  with tf.GradientTape() as tape:
    log_p = layer.distribution(normal(inner_shape, dtype), context=context).log_prob(
        x, seed=(3, 4))
    loss = -tf.reduce_mean(log_p)
  grads = tape.gradient(loss, layer.trainable_variables)
  assert log_p.shape == (8,) and log_p.dtype == dtype
  assert np.all(np.isfinite(log_p))
  assert layer.trainable_variables
  for var, grad in zip(layer.trainable_variables, grads):
    assert grad is not None and np.any(grad.numpy() != 0), var.path


@pytest.mark.parametrize("name", sorted(CASES))
def test_log_prob_inside_tf_function_equals_eager(name):
  make, inner_shape, x_shape = CASES[name]
  layer = make()
  x, context = data(name, x_shape, "float32"), context_for(name, "float32")
  log_prob = lambda x: layer.distribution(normal(inner_shape), context=context).log_prob(
      x, seed=(3, 4))
  np.testing.assert_allclose(tf.function(log_prob)(x), log_prob(x), rtol=1e-5, atol=1e-5)


def test_context_changes_the_learned_parts():
  layer = Abs(2, context_size=1)
  inner = normal([2])
  x = tf.constant([[1.0, -1.0]])
  assert not np.allclose(layer.distribution(inner, tf.constant([[0.0]])).log_prob(x),
                         layer.distribution(inner, tf.constant([[5.0]])).log_prob(x))


def test_fixed_q_has_no_trainable_variables():
  assert not Abs(2, q=0.3, learn_q=False).trainable_variables


@keras.saving.register_keras_serializable(package="tests")
def negative_mean(_, log_p):
  return -tf.reduce_mean(log_p)


@keras.saving.register_keras_serializable(package="tests")
class Stack(keras.Model):
  """x -> Abs -> Slice(3 -> 2) -> Augment(2 -> 4) -> N(0, I): a small model of nested wrappers."""

  def __init__(self, **kwargs):
    super().__init__(**kwargs)
    self.abs = Abs(3)
    self.slice = Slice(3, 2)
    self.augment = Augment(2, 2, learned=True)

  def distribution(self):
    inner = self.augment.distribution(normal([4]))
    return self.abs.distribution(self.slice.distribution(inner))

  def call(self, x):
    return self.distribution().log_prob(x, seed=(7, 7))


def test_save_reload_gives_same_log_prob(tmp_path):
  model = Stack()
  x = tf.random.stateless_normal([16, 3], seed=(5, 5))
  model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=negative_mean)
  model.fit(x, x, epochs=2, batch_size=8, verbose=0)
  path = os.path.join(tmp_path, "stack.keras")
  model.save(path)
  again = keras.models.load_model(path)
  np.testing.assert_allclose(again(x), model(x), rtol=1e-6)
  assert not again.distribution().is_exact


def test_fit_learns_the_sign_probability():
  """Abs with learned q on data whose first sign is + with probability 0.75 recovers q."""
  rng = np.random.default_rng(0)
  signs = np.where(rng.uniform(size=(4000, 2)) < [0.75, 0.5], 1.0, -1.0)
  x = (signs * np.abs(rng.normal(size=(4000, 2)))).astype("float32")
  inner = tfd.Sample(tfd.HalfNormal(1.0), 2)

  class Model(keras.Model):
    def __init__(self):
      super().__init__()
      self.abs = Abs(2)

    def call(self, v):
      return self.abs.distribution(inner).log_prob(v)

  model = Model()
  model.compile(optimizer=keras.optimizers.Adam(0.05), loss=negative_mean)
  model.fit(x, x, epochs=5, batch_size=400, verbose=0)
  q = model.abs.distribution(inner).sign_probability.numpy()
  np.testing.assert_allclose(q, (signs > 0).mean(0), atol=0.03)
