"""Householder step: orthogonal, zero log-det, validation."""
import numpy as np
import pytest
import tensorflow as tf

from tfp_flows.layers import Householder


def test_matrix_is_orthogonal_and_learnable():
  step = Householder(4, num_reflections=3, dtype="float64")
  b = step.bijector()
  q = b.forward(tf.eye(4, dtype=tf.float64)).numpy()
  np.testing.assert_allclose(q @ q.T, np.eye(4), atol=1e-12)
  assert float(b.forward_log_det_jacobian(tf.ones([4], tf.float64), 1)) == 0.0
  assert [v.name for v in step.trainable_variables] == ["vectors"]


def test_zero_vector_is_reported_with_validate_args():
  step = Householder(2, validate_args=True)
  step.vectors.assign(tf.zeros([2, 2]))
  with pytest.raises(tf.errors.InvalidArgumentError, match="zero"):
    step(tf.ones([1, 2]))


def test_wrong_width_is_a_value_error():
  with pytest.raises(ValueError, match=r"householder.*\[\.\.\., 2\], got shape \(1, 3\)"):
    Householder(2, name="householder")(tf.ones([1, 3]))
