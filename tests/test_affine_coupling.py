"""Affine and spline coupling steps: identity start, clamped scales, bad input."""
import numpy as np
import pytest
import tensorflow as tf

from tfp_flows.layers import AffineCoupling, SplineCoupling
from tfp_flows.layers.affine_coupling import soft_clamp


def test_affine_coupling_starts_as_identity_and_keeps_the_masked_part():
  step = AffineCoupling(3, num_masked=1, hidden=(8,))
  x = tf.random.normal([5, 3])
  np.testing.assert_allclose(step(x), x)
  for v in step.trainable_variables:
    v.assign(v + tf.random.normal(v.shape))
  z = step(x)
  np.testing.assert_allclose(z[:, :1], x[:, :1])
  assert not np.allclose(z[:, 1:], x[:, 1:])


def test_soft_clamp_bounds_log_scales():
  raw = tf.constant([-1e6, -0.01, 0.0, 0.01, 1e6])
  out = soft_clamp(raw, 3.0).numpy()
  assert np.all(np.abs(out) <= 3.0) and np.isfinite(out).all()
  np.testing.assert_allclose(out[1:4], [-0.01, 0.0, 0.01], rtol=1e-4)


@pytest.mark.parametrize("make", [
    lambda: AffineCoupling(3, hidden=(8,), context_size=2),
    lambda: SplineCoupling(3, num_bins=4, hidden=(8,), context_size=2)])
def test_bad_input_is_a_value_error_naming_shapes(make):
  step, x = make(), tf.zeros([4, 3])
  with pytest.raises(ValueError, match=r"\[\.\.\., 2\].*\(4, 5\)"):
    step(x, context=tf.zeros([4, 5]))
  with pytest.raises(ValueError, match="needs a context"):
    step(x)
  with pytest.raises(ValueError, match=r"\[\.\.\., 3\], got shape \(4, 4\)"):
    step(tf.zeros([4, 4]), context=tf.zeros([4, 2]))
  with pytest.raises(ValueError, match=r"\[\.\.\., 3\], got shape \(4, 4\)"):
    step.bijector(tf.zeros([4, 2])).inverse(tf.zeros([4, 4]))
  with pytest.raises(ValueError, match=r"context's batch shape \(5,\) does not broadcast "
                                       r"against the input's \(4,\)"):
    step(x, context=tf.zeros([5, 2]))


def test_num_masked_out_of_range():
  with pytest.raises(ValueError, match="num_masked"):
    AffineCoupling(3, num_masked=3)


def test_spline_coupling_is_identity_outside_the_bound():
  step = SplineCoupling(2, num_bins=4, bound=2.0, hidden=(8,))
  for v in step.trainable_variables:
    v.assign(v + tf.random.normal(v.shape))
  x = tf.constant([[0.1, 5.0], [0.3, -7.0]])
  np.testing.assert_allclose(step(x)[:, 1], x[:, 1])
