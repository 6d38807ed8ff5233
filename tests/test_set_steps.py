"""Steps on point sets `[N, D]`: permutation equivariance, `ascending_column`, bad input.

The conformance checks of these steps (round trips, log-dets against autodiff, saving) are
cases of tests/test_conformance.py with `event_shape`.
"""
import numpy as np
import pytest
import tensorflow as tf

from tfp_flows import bijectors as B
from tfp_flows import layers as L
from conformance import make, Case

F64 = dict(dtype="float64")
N, D = 5, 2


def _set_case(make_step, context_size=None):
  return Case("set", type(None), make_step, N * D, context_size, (N, D))


def _commutes(step, context=None, seed=0):
  """Max |f(P x) - P f(x)| over forward and inverse, and |ldj(P x) - ldj(x)|, for a random P."""
  rng = np.random.default_rng(seed)
  x = tf.constant(rng.standard_normal([4, N, D]) * 2.0, tf.float64)
  perm = rng.permutation(N)
  permute = lambda v: tf.gather(v, perm, axis=-2)
  b = step.bijector() if context is None else step.bijector(context)
  gaps = []
  for f in (b.forward, b.inverse):
    gaps.append(np.abs(f(permute(tf.identity(x))) - permute(f(tf.identity(x)))).max())
  for ldj in (b.forward_log_det_jacobian, b.inverse_log_det_jacobian):
    gaps.append(np.abs(ldj(permute(tf.identity(x)), 2) - ldj(tf.identity(x), 2)).max())
  return max(gaps)


@pytest.mark.parametrize("name, make_step, context_size", [
    ("coupling", lambda: L.TransformerCoupling(D, width=8, num_heads=2, num_blocks=2, **F64),
     None),
    ("coupling_context", lambda: L.TransformerCoupling(D, width=8, num_heads=2, num_blocks=1,
                                                       context_size=3, **F64), 3),
    ("actnorm", lambda: L.ActNorm(D, **F64), None),
])
def test_equivariant_steps_commute_with_permuting_the_points(name, make_step, context_size):
  step = make(_set_case(make_step, context_size))
  context = None if context_size is None else tf.constant(
      np.random.default_rng(1).standard_normal([4, context_size]), tf.float64)
  assert _commutes(step, context) < 1e-10, name


def test_positional_coupling_is_not_equivariant():
  step = make(_set_case(lambda: L.TransformerCoupling(D, width=8, num_heads=2, num_blocks=1,
                                                      num_positions=N, **F64)))
  assert _commutes(step) > 1e-3


def test_ascending_column_round_trip_and_log_det():
  rng = np.random.default_rng(0)
  b = B.ascending_column(N, 3, column=1)
  z = tf.constant(rng.standard_normal([2, N, 3]), tf.float64)
  x = b.forward(tf.identity(z))
  assert np.all(np.diff(x[..., 1], axis=-1) > 0)
  np.testing.assert_allclose(x.numpy()[..., [0, 2]], z.numpy()[..., [0, 2]])
  np.testing.assert_allclose(b.inverse(tf.identity(x)), z, atol=1e-12)
  with tf.GradientTape() as tape:
    tape.watch(z)
    y = tf.reshape(b.forward(z), [2, -1])
  jacobian = tape.batch_jacobian(y, z)
  _, logdet = np.linalg.slogdet(tf.reshape(jacobian, [2, 3 * N, 3 * N]).numpy())
  np.testing.assert_allclose(b.forward_log_det_jacobian(z, 2), logdet, atol=1e-10)
  np.testing.assert_allclose(b.inverse_log_det_jacobian(tf.identity(x), 2), -logdet, atol=1e-10)


def test_bad_input_names_the_value():
  with pytest.raises(ValueError, match=r"column must be in \[0, 1\].* got 2"):
    B.ascending_column(N, 2, column=2)
  with pytest.raises(ValueError, match="num_masked must be in .* got 2"):
    L.TransformerCoupling(2, num_masked=2)
  with pytest.raises(ValueError, match="width must be divisible by num_heads"):
    L.TransformerCoupling(2, width=10, num_heads=4)
  step = L.TransformerCoupling(D, width=8, num_heads=2, num_blocks=1, num_positions=N)
  with pytest.raises(ValueError, match=f"positions for sets of {N} points, got 7"):
    step.bijector().inverse(tf.zeros([1, 7, D]))
  with pytest.raises(ValueError, match=r"expects inputs of shape \[..., 2\], got shape \(1, 5, 3\)"):
    step.bijector().inverse(tf.zeros([1, N, 3]))
  with pytest.raises(ValueError, match="event_ndims must be at least 2"):
    step.bijector().inverse_log_det_jacobian(tf.zeros([1, N, D]), 1)
