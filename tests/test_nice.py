"""NICE steps: additive coupling (parity, context, zero log-det) and diagonal scaling."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tfp_flows import layers


def _randomise(layer, seed=0):
  rng = np.random.default_rng(seed)
  for v in layer.trainable_variables:
    v.assign(rng.normal(size=v.shape))


@pytest.mark.parametrize("parity,kept", [(0, [0, 1]), (1, [3, 4])])
def test_coupling_keeps_one_half_and_round_trips(parity, kept):
  layer = layers.AdditiveCoupling(5, hidden=(8,), parity=parity, dtype="float64")
  _randomise(layer)
  x = tf.constant(np.random.default_rng(1).normal(size=(2, 3, 5)))
  bij = layer.bijector()
  z = layer(x)
  changed = [i for i in range(5) if i not in kept]
  np.testing.assert_array_equal(z.numpy()[..., kept], x.numpy()[..., kept])
  assert np.all(np.abs(z.numpy()[..., changed] - x.numpy()[..., changed]) > 0)
  np.testing.assert_allclose(bij.forward(tf.identity(z)), x, atol=1e-12)
  np.testing.assert_array_equal(np.broadcast_to(bij.forward_log_det_jacobian(z, 1), (2, 3)), 0.0)


def test_coupling_context_changes_the_shift_and_is_checked():
  layer = layers.AdditiveCoupling(2, hidden=(8,), context_size=3, dtype="float64")
  _randomise(layer)
  x = tf.zeros((4, 2), tf.float64)
  c1 = tf.constant(np.random.default_rng(2).normal(size=(4, 3)))
  z1, z2 = layer(x, context=c1), layer(x, context=c1 + 1.0)
  assert not np.allclose(z1[:, 1], z2[:, 1])
  np.testing.assert_allclose(layer.bijector(c1).forward(tf.identity(z1)), x, atol=1e-12)
  with pytest.raises(ValueError, match="context"):
    layer(x)
  with pytest.raises(ValueError):
    layers.AdditiveCoupling(2, parity=2)


def test_scaling_log_det_and_direction():
  layer = layers.Scaling(3, dtype="float64")
  layer.log_scale.assign([0.5, -1.0, 2.0])
  z = tf.constant(np.random.default_rng(3).normal(size=(4, 3)))
  bij = layer.bijector()
  np.testing.assert_allclose(bij.forward(z), z * np.exp([0.5, -1.0, 2.0]))
  np.testing.assert_allclose(bij.forward_log_det_jacobian(z, 1), 1.5)
  np.testing.assert_allclose(layer(bij.forward(z)), z, atol=1e-12)


def test_nice_flow_saves_and_reloads(tmp_path):
  steps = [layers.AdditiveCoupling(2, hidden=(8,), parity=i % 2, dtype="float64")
           for i in range(2)] + [layers.Scaling(2, dtype="float64")]
  for i, s in enumerate(steps):
    _randomise(s, seed=i)
  model = keras.Sequential([layers.Flow(steps, event_size=2, dtype="float64")])
  x = np.random.default_rng(4).normal(size=(6, 2))
  before = model(x)
  model.save(tmp_path / "nice.keras")
  np.testing.assert_allclose(keras.models.load_model(tmp_path / "nice.keras")(x), before)
