"""The lean rational-quadratic spline gives TFP's values, log-dets and gradients, with a smaller graph."""
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.bijectors import RationalQuadraticSpline

tfb = tfp.bijectors
K, B = 8, 3.0


def _params(rng, shape):
  """Random widths and heights summing to 2B, and interior slopes, float64."""
  w = rng.uniform(0.05, 1.0, shape + (K,))
  h = rng.uniform(0.05, 1.0, shape + (K,))
  d = rng.uniform(0.1, 4.0, shape + (K - 1,))
  return [tf.constant(v) for v in (2 * B * w / w.sum(-1, keepdims=True),
                                   2 * B * h / h.sum(-1, keepdims=True), d)]


def _points(rng, params):
  """Inputs inside, outside and exactly at every knot (and the interval's ends), `[n, 5]`."""
  w = params[0].numpy()
  knots = -B + np.concatenate([np.zeros(w.shape[:-1] + (1,)), np.cumsum(w, -1)], -1)
  inside = rng.uniform(-B, B, (40, 5))
  outside = np.concatenate([rng.uniform(-9, -B, (10, 5)), rng.uniform(B, 9, (10, 5))])
  at_knots = np.moveaxis(knots, -1, 0)  # [K + 1, 5]
  return tf.constant(np.concatenate([inside, outside, at_knots]))


@pytest.mark.parametrize("direction", ["forward", "inverse"])
def test_values_log_dets_and_gradients_match_tfp(direction):
  rng = np.random.default_rng(0)
  params = _params(rng, (5,))
  x = _points(rng, params)

  def run(cls):
    with tf.GradientTape(persistent=True) as tape:
      tape.watch([x] + params)
      bij = cls(*params, range_min=-B)
      # tf.identity: the log-det must be computed, not read from the bijector's cache.
      y = getattr(bij, direction)(tf.identity(x))
      ldj = getattr(bij, f"{direction}_log_det_jacobian")(tf.identity(x), event_ndims=0)
      loss = tf.reduce_sum(tf.sin(y)) + tf.reduce_sum(tf.cos(ldj))
    grads = tape.gradient(loss, [x] + params)
    return [y, ldj] + grads

  ours, theirs = run(RationalQuadraticSpline), run(tfb.RationalQuadraticSpline)
  for name, a, b in zip(["value", "log-det", "d/dx", "d/dwidths", "d/dheights", "d/dslopes"],
                        ours, theirs):
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6, rtol=1e-6, err_msg=name)


def test_identity_outside_the_interval_and_round_trip():
  rng = np.random.default_rng(1)
  params = _params(rng, (5,))
  bij = RationalQuadraticSpline(*params, range_min=-B)
  x = _points(rng, params)
  outside = np.abs(x.numpy()) > B
  np.testing.assert_array_equal(bij.forward(x).numpy()[outside], x.numpy()[outside])
  np.testing.assert_allclose(bij.inverse(tf.identity(bij.forward(x))).numpy(), x.numpy(),
                             atol=1e-10)


def test_graph_is_smaller_than_tfps():
  specs = [tf.TensorSpec([None, 5], tf.float32), tf.TensorSpec([None, 5, K], tf.float32),
           tf.TensorSpec([None, 5, K], tf.float32), tf.TensorSpec([None, 5, K - 1], tf.float32)]

  def nodes(cls):
    @tf.function
    def loss(x, w, h, d):
      with tf.GradientTape() as tape:
        tape.watch([w, h, d])
        bij = cls(w, h, d, range_min=-B)
        out = tf.reduce_sum(bij.forward(x)) + tf.reduce_sum(bij.forward_log_det_jacobian(x, 0))
      return tape.gradient(out, [w, h, d])
    return len(loss.get_concrete_function(*specs).graph.as_graph_def().node)

  ours, theirs = nodes(RationalQuadraticSpline), nodes(tfb.RationalQuadraticSpline)
  assert ours < 0.8 * theirs, (ours, theirs)


def test_mismatched_parameter_sizes_are_rejected():
  with pytest.raises(ValueError, match="knot_slopes .* expected K, K and K - 1"):
    RationalQuadraticSpline(tf.ones([4]), tf.ones([4]), tf.ones([4]))
