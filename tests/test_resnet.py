"""ResNet encoder/decoder of the MNIST IAF-VAE: shapes, scale, blocks, gradients, saving."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfp_flows.layers import ResNetBlock, ResNetDecoder, ResNetEncoder

SMALL = {"channels": (4, 8), "hidden_units": 16}  # a cheap configuration for structural tests


@pytest.fixture(scope="module")
def mnist_pair():
  """The paper-sized encoder and decoder (latent 32), built, with a batch of binary images."""
  keras.utils.set_random_seed(0)
  encoder, decoder = ResNetEncoder(), ResNetDecoder()
  decoder.build((None, 32))
  x = tf.cast(tf.random.uniform([2, 28, 28, 1]) < 0.3, tf.float32)
  return encoder, decoder, x


def test_shapes_positive_scale_and_parameter_count(mnist_pair):
  encoder, decoder, x = mnist_pair
  loc, scale, h = encoder(x)
  assert (loc.shape, scale.shape, h.shape) == ((2, 32), (2, 32), (2, 450))
  logits = decoder(loc)
  assert logits.shape == (2, 28, 28, 1)
  assert np.all(scale > 0)
  for t in (loc, scale, h, logits):
    assert np.all(np.isfinite(t))
  # Encoder: 6 blocks 83,184 + dense 512->450 231,300 + heads 14,464 * 2 + 203,400 (with g).
  assert encoder.count_params() == 546_812
  # Decoder: dense 15,300 + 231,424, blocks 95,808, output conv 146 (with g).
  assert decoder.count_params() == 342_678


def test_gradient_reaches_every_weight(mnist_pair):
  encoder, decoder, x = mnist_pair
  weights = encoder.trainable_weights + decoder.trainable_weights
  with tf.GradientTape() as tape:
    loc, scale, h = encoder(x)
    logits = decoder(loc + scale)
    loss = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(x, logits)) + tf.reduce_sum(h)
  for w, g in zip(weights, tape.gradient(loss, weights)):
    assert g is not None and np.abs(g).sum() > 0, f"no gradient for {w.path}"


def test_scale_is_stable_for_extreme_head_outputs():
  encoder = ResNetEncoder(latent_size=2, context_size=3, **SMALL)
  encoder.raw_scale.layer.bias.assign([-1e4, 1e4])
  _, scale, _ = encoder(tf.zeros([1, 28, 28, 1]))
  assert np.all(np.isfinite(np.log(scale))) and np.all(scale > 0)


@pytest.mark.parametrize(
  "resample,expected", [(None, (2, 7, 5, 4)), ("down", (2, 4, 3, 4)), ("up", (2, 14, 10, 4))]
)
def test_block_resolution(resample, expected):
  block = ResNetBlock(4, resample)
  assert block(tf.random.normal([2, 7, 5, 3])).shape == expected
  assert block.shortcut is not None  # channels 3 -> 4: projected


def test_block_is_residual_with_identity_shortcut():
  block = ResNetBlock(3)
  x = tf.random.normal([2, 5, 5, 3])
  block(x)
  assert block.shortcut is None
  block.conv_b.g.assign(tf.zeros([3]))  # the residual branch now outputs its bias, 0
  np.testing.assert_allclose(block(x), keras.activations.elu(x), rtol=1e-6)


def test_decoder_crops_to_odd_sizes():
  decoder = ResNetDecoder(output_shape=(10, 6, 3), **SMALL)  # 10, 5, 3 by 6, 3, 2
  assert decoder.sizes == [(3, 2), (5, 3), (10, 6)]
  assert decoder(tf.random.normal([2, 5])).shape == (2, 10, 6, 3)


def test_bad_shapes_raise_clear_errors():
  encoder = ResNetEncoder(latent_size=2, context_size=3, **SMALL)
  with pytest.raises(ValueError, match=r"\[batch, 28, 28, 1\], got shape \(2, 28, 28\)"):
    encoder(tf.zeros([2, 28, 28]))
  with pytest.raises(ValueError, match=r"\[batch, 28, 28, 1\], got shape \(2, 32, 32, 1\)"):
    encoder(tf.zeros([2, 32, 32, 1]))
  decoder = ResNetDecoder(**SMALL)
  with pytest.raises(ValueError, match=r"\[batch, L\], got shape \(2, 4, 1\)"):
    decoder(tf.zeros([2, 4, 1]))
  decoder(tf.zeros([2, 4]))
  with pytest.raises(ValueError, match=r"\[batch, 4\], got shape \(2, 5\)"):
    decoder(tf.zeros([2, 5]))
  with pytest.raises(ValueError, match="channels"):
    ResNetEncoder(channels=())
  with pytest.raises(ValueError, match="resample"):
    ResNetBlock(4, "sideways")


def test_save_reload_and_tf_function(tmp_path):
  keras.utils.set_random_seed(1)
  encoder = ResNetEncoder(latent_size=2, context_size=3, **SMALL)
  decoder = ResNetDecoder(**SMALL)
  inputs = keras.Input((28, 28, 1))
  loc, scale, h = encoder(inputs)
  model = keras.Model(inputs, [loc, scale, h, decoder(loc)])
  for w in model.trainable_weights:
    w.assign(w + 0.1 * tf.random.normal(w.shape))
  x = tf.random.uniform([2, 28, 28, 1])
  expected = model(x)
  model.save(tmp_path / "resnet.keras")
  loaded = keras.saving.load_model(tmp_path / "resnet.keras")
  for got in (tf.function(model)(x), loaded(x)):
    for a, b in zip(got, expected):
      np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
