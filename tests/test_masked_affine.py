"""MaskedAffine: MAF and IAF directions, autoregressive structure, context."""
import numpy as np
import pytest
import tensorflow as tf

from tfp_flows.layers import MaskedAffine


def _randomised(**kwargs):
  step = MaskedAffine(3, hidden_units=8, dtype="float64", **kwargs)
  for v in step.trainable_variables:
    v.assign(v + 0.5 * tf.random.normal(v.shape, dtype=tf.float64))
  return step


@pytest.mark.parametrize("inverse", [False, True])
def test_starts_as_identity(inverse):
  x = tf.random.normal([4, 3])
  np.testing.assert_allclose(MaskedAffine(3, inverse=inverse, hidden_units=8)(x), x)


def test_maf_density_direction_is_triangular_and_iaf_is_its_inverse():
  maf = _randomised()
  x = tf.random.normal([1, 3], dtype=tf.float64)
  with tf.GradientTape() as tape:
    tape.watch(x)
    z = maf(x)
  jac = tape.batch_jacobian(z, x)[0].numpy()
  np.testing.assert_allclose(np.triu(jac, 1), 0.0)  # z_d depends on x_{<=d} only
  iaf = MaskedAffine.from_config({**maf.get_config(), "inverse": True})
  iaf.set_weights(maf.get_weights())
  np.testing.assert_allclose(iaf.bijector().forward(x), z, rtol=1e-12)


def test_context_changes_the_map_and_is_checked():
  step = _randomised(context_size=2)
  x = tf.random.normal([4, 3], dtype=tf.float64)
  c = tf.random.normal([4, 2], dtype=tf.float64)
  assert not np.allclose(step(x, context=c), step(x, context=c + 1.0))
  with pytest.raises(ValueError, match=r"\[\.\.\., 2\].*\(4, 1\)"):
    step(x, context=c[:, :1])
  with pytest.raises(ValueError, match="width 3"):
    step(tf.zeros([4, 2], tf.float64), context=c)
