"""WeightNorm: kernel g v / ||v|| per output channel, starts as the plain layer, trains, saves."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfp_flows.layers import WeightNorm

# (layer factory, input shape, output-channel axis of its kernel)
LAYERS = {
  "dense": (lambda: keras.layers.Dense(5, activation="elu"), (3, 4), -1),
  "conv2d": (lambda: keras.layers.Conv2D(6, 3, strides=2, padding="same"), (2, 7, 7, 3), -1),
  "conv2d_transpose": (
    lambda: keras.layers.Conv2DTranspose(6, 3, strides=2, padding="same"),
    (2, 4, 4, 3),
    -2,
  ),
}


def _pair(kind, seed=0):
  """A weight-normed layer and a plain layer of the same kind, built, with an input."""
  factory, shape, axis = LAYERS[kind]
  keras.utils.set_random_seed(seed)
  wn, plain = WeightNorm(factory()), factory()
  x = tf.random.normal(shape)
  wn(x)
  plain(x)
  return wn, plain, x, axis


@pytest.mark.parametrize("kind", LAYERS)
def test_kernel_is_g_times_v_over_its_norm_per_output_channel(kind):
  wn, plain, x, axis = _pair(kind)
  rng = np.random.default_rng(1)
  wn.g.assign(rng.uniform(0.5, 2.0, wn.g.shape).astype("float32"))
  wn.layer.bias.assign(rng.normal(size=wn.layer.bias.shape).astype("float32"))
  v = wn.layer.kernel.numpy()
  other = tuple(i for i in range(v.ndim) if i != v.ndim + axis)
  g = np.expand_dims(wn.g.numpy(), other)
  expected = g * v / np.sqrt((v**2).sum(axis=other, keepdims=True))
  np.testing.assert_allclose(wn.kernel(), expected, rtol=1e-6)
  np.testing.assert_allclose(np.sqrt((expected**2).sum(axis=other)), wn.g.numpy(), rtol=1e-6)
  plain.set_weights([expected, wn.layer.bias.numpy()])
  np.testing.assert_allclose(wn(x), plain(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", LAYERS)
def test_starts_equal_to_the_plain_layer_with_the_same_kernel(kind):
  wn, plain, x, _ = _pair(kind)
  plain.set_weights(wn.layer.get_weights())  # v and bias
  np.testing.assert_allclose(wn(x), plain(x), rtol=1e-5, atol=1e-6)
  assert not np.allclose(wn(x), 0.0)


@pytest.mark.parametrize("kind", LAYERS)
def test_gradient_reaches_g_v_and_bias(kind):
  wn, _, x, _ = _pair(kind)
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(tf.sin(wn(x)))
  grads = tape.gradient(loss, wn.trainable_weights)
  assert sorted(w.name for w in wn.trainable_weights) == ["bias", "g", "kernel"]
  for w, g in zip(wn.trainable_weights, grads):
    assert g is not None and np.abs(g).sum() > 0, f"no gradient for {w.path}"


def test_saves_and_reloads_from_keras_file(tmp_path):
  wn, _, x, _ = _pair("conv2d_transpose")
  inputs = keras.Input(x.shape[1:])
  model = keras.Model(inputs, wn(inputs))
  for w in model.trainable_weights:
    w.assign(w + 0.1 * tf.random.normal(w.shape))
  model.save(tmp_path / "wn.keras")
  loaded = keras.saving.load_model(tmp_path / "wn.keras")
  np.testing.assert_allclose(loaded(x), model(x), rtol=1e-6)


def test_tf_function_and_mirrored_strategy_match_eager():
  strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
  with strategy.scope():
    wn, _, x, _ = _pair("conv2d")
  step = tf.function(lambda x: strategy.run(wn, (x,)))
  np.testing.assert_allclose(step(x), wn(x), rtol=1e-6)


def test_layer_without_kernel_is_rejected():
  with pytest.raises(ValueError, match="one weight named 'kernel'.*\\[\\]"):
    WeightNorm(keras.layers.ReLU())(tf.zeros([2, 3]))
