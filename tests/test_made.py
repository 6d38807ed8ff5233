"""MADE: the Jacobian of its outputs w.r.t. its inputs is strictly lower triangular."""
import numpy as np
import pytest
import tensorflow as tf

from tfp_flows.layers import MADE


def _dependence(made, x, context=None):
  """[D_out, D_in] boolean: does output d (any parameter) depend on input i, for random weights."""
  for v in made.trainable_variables:
    v.assign(tf.random.normal(v.shape, dtype=v.dtype))
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = made(x, context=context)
  jac = tape.batch_jacobian(y, x).numpy()  # [B, D, P, D]
  return np.abs(jac).sum(axis=(0, 2)) > 0


@pytest.mark.parametrize("residual,num_blocks", [(True, 2), (False, 1), (False, 3)])
def test_jacobian_is_strictly_lower_triangular(residual, num_blocks):
  d = 5
  # tanh: no unit is dead on every point (as ReLUs can be for some random weights), so the
  # dependence seen is the masks' alone, whatever the seed.
  made = MADE(d, 3, hidden_units=16, num_blocks=num_blocks, residual=residual,
              activation="tanh")
  dep = _dependence(made, tf.random.normal([64, d]))
  np.testing.assert_array_equal(dep, np.tril(np.ones((d, d), bool), k=-1))


def test_context_reaches_every_output_but_keeps_the_structure():
  d = 4
  made = MADE(d, 2, hidden_units=12, num_blocks=1, residual=False)
  x, c = tf.random.normal([3, d]), tf.random.normal([3, 2])
  made.build(x.shape, c.shape)
  np.testing.assert_array_equal(_dependence(made, x, c), np.tril(np.ones((d, d), bool), k=-1))
  with tf.GradientTape() as tape:
    tape.watch(c)
    y = made(x, context=c)
  per_output = np.abs(tape.batch_jacobian(y, c).numpy()).sum(axis=(0, 2, 3))
  assert (per_output > 0).all()  # the first output, which sees no x, still sees the context


def test_stacked_models_are_independent_and_each_autoregressive():
  d, k = 3, 4
  made = MADE(d, 2, hidden_units=8, num_models=k)
  x = tf.random.normal([5, k, d])
  for v in made.trainable_variables:
    v.assign(tf.random.normal(v.shape))
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = made(x)  # [5, K, D, 2]
  jac = tape.jacobian(y, x).numpy()  # [5, K, D, 2, 5, K, D]
  dep = np.abs(jac).sum(axis=(0, 3, 4)) > 0  # [K, D, K, D]
  expected = np.einsum("kl,ij->kilj", np.eye(k, dtype=bool), np.tril(np.ones((d, d), bool), -1))
  np.testing.assert_array_equal(dep, expected)


def test_wrong_width_is_a_clear_error():
  made = MADE(3, 2, hidden_units=8)
  made.build((None, 3))
  with pytest.raises(ValueError, match="width 3"):
    made(tf.zeros([2, 4]))


def test_dropout_drops_the_rate_scales_the_rest_and_is_off_in_inference():
  made = MADE(3, 2, hidden_units=4, dropout=0.25, seed=7)
  h = tf.ones([4000, 64])
  dropped = made.dropout(h, training=True).numpy()
  assert abs((dropped == 0).mean() - 0.25) < 0.01
  np.testing.assert_allclose(dropped[dropped != 0], 1 / 0.75, rtol=1e-6)
  assert not np.array_equal(dropped, made.dropout(h, training=True).numpy())  # fresh masks
  np.testing.assert_array_equal(made.dropout(h, training=False).numpy(), h.numpy())
  jitted = tf.function(lambda h: made.dropout(h, training=True), jit_compile=True)(h).numpy()
  assert abs((jitted == 0).mean() - 0.25) < 0.01


def test_made_without_dropout_leaves_python_random_state_alone():
  # A SeedGenerator draws from Python's `random` when built; MADE makes one only for dropout,
  # as Keras' Dropout does, so a model's layers built after it keep their initial weights.
  import random
  state = random.getstate()
  MADE(4, 2, hidden_units=8, dropout=0.0)
  assert random.getstate() == state
  MADE(4, 2, hidden_units=8, dropout=0.1)
  assert random.getstate() != state
