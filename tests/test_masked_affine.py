"""MaskedAffine: MAF and IAF directions, autoregressive structure, context, gated IAF update."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.layers import MADE, MaskedAffine, chain

tfd = tfp.distributions


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
  with pytest.raises(ValueError, match=r"\[\.\.\., 3\], got shape \(4, 2\)"):
    step(tf.zeros([4, 2], tf.float64), context=c)


def _one_pass(step, context):
  """The step's one-pass direction v -> u: `forward` for IAF, `inverse` for MAF."""
  b = step.bijector(context)
  return (
    (b.forward, b.forward_log_det_jacobian)
    if step.inverse
    else (b.inverse, b.inverse_log_det_jacobian)
  )


@pytest.mark.parametrize("inverse", [True, False])
@pytest.mark.parametrize("scale", ["sigmoid", "one"])
def test_gated_and_unit_scale_follow_kingma_et_al_eq_14(scale, inverse):
  step = _randomised(inverse=inverse, scale=scale, gate_bias=1.2, context_size=2)
  v = tf.random.normal([5, 3], dtype=tf.float64)
  c = tf.random.normal([5, 2], dtype=tf.float64)
  apply, log_det = _one_pass(step, c)
  params = step.made(v, context=c).numpy()
  m = params[..., 0]
  if scale == "sigmoid":
    sigma = 1.0 / (1.0 + np.exp(-(params[..., 1] + 1.2)))
    expected, expected_log_det = sigma * v + (1.0 - sigma) * m, np.log(sigma).sum(-1)
  else:
    assert params.shape == (5, 3, 1)  # the MADE emits m only
    expected, expected_log_det = v + m, np.zeros(5)
  np.testing.assert_allclose(apply(v), expected, rtol=1e-12)
  np.testing.assert_allclose(log_det(v, event_ndims=1), expected_log_det, rtol=1e-12, atol=1e-12)
  assert not np.allclose(expected, v)


@pytest.mark.parametrize("gate_bias", [1.5, -0.5])
def test_sigma_starts_at_sigmoid_of_the_gate_bias(gate_bias):
  step = MaskedAffine(
    3,
    inverse=True,
    hidden_units=8,
    scale="sigmoid",
    gate_bias=gate_bias,
    context_size=2,
    dtype="float64",
  )
  z = tf.random.normal([4, 3], dtype=tf.float64)
  b = step.bijector(tf.random.normal([4, 2], dtype=tf.float64))
  sigma = 1.0 / (1.0 + np.exp(-gate_bias))  # 0.8176 for 1.5
  np.testing.assert_allclose(b.forward(z), sigma * z, rtol=1e-12)
  np.testing.assert_allclose(
    b.forward_log_det_jacobian(z, event_ndims=1), np.full(4, 3 * np.log(sigma)), rtol=1e-12
  )


def test_iaf_sample_and_log_prob_costs_one_made_pass_per_step(monkeypatch):
  steps = [
    MaskedAffine(3, inverse=True, hidden_units=8, scale=s, context_size=2)
    for s in ("sigmoid", "one")
  ]
  passes = []
  call = MADE.call
  monkeypatch.setattr(MADE, "call", lambda self, *a, **k: passes.append(1) or call(self, *a, **k))
  c = tf.random.normal([4, 2])
  base = tfd.Sample(tfd.Normal(0.0, 1.0), 3)
  q = tfd.TransformedDistribution(base, chain(steps, c))
  z, log_q = q.experimental_sample_and_log_prob(seed=1)
  assert len(passes) == 2
  passes.clear()
  # tf.identity: a new tensor, so TFP's bijector cache cannot answer and log_prob runs the
  # density direction of each IAF, D = 3 passes (and one for the log-det) per step.
  np.testing.assert_allclose(log_q, q.log_prob(tf.identity(z)), rtol=1e-4, atol=1e-4)
  assert len(passes) >= 2 * 3


def test_unknown_scale_is_rejected():
  with pytest.raises(ValueError, match=r"scale must be one of.*'softplus'"):
    MaskedAffine(3, scale="softplus")


def test_one_point_broadcasts_against_a_batch_of_contexts():
  # A likelihood evaluated on a grid of contexts (e.g. inside a JointDistribution): x is [1, D]
  # and the contexts [5, C]; each entry must equal log_prob with that context alone.
  steps = [_randomised(context_size=2), _randomised(context_size=2)]
  base = tfd.Sample(tfd.Normal(tf.constant(0.0, tf.float64), 1.0), 3)
  x = tf.random.normal([1, 3], dtype=tf.float64)
  c = tf.random.normal([5, 2], dtype=tf.float64)
  log_p = tfd.TransformedDistribution(base, chain(steps, c)).log_prob(x)
  one_by_one = [tfd.TransformedDistribution(base, chain(steps, c[i:i + 1])).log_prob(x)[0]
                for i in range(5)]
  np.testing.assert_allclose(log_p, one_by_one, rtol=1e-10)
