"""Keras side of the surjection layers: context, nested save/reload, training with fit.

Per-layer gradients, float32/float64, tf.function and save/reload: tests/test_surjection_conformance.py.
"""
import os

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.layers import Abs, Augment, Slice

tfd, tfb = tfp.distributions, tfp.bijectors


def normal(shape, dtype="float32"):
  return tfd.Sample(tfd.Normal(tf.constant(0, dtype), 1), shape)


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
