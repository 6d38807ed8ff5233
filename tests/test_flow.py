"""Flow and chain: step order, conditional flows from one context, training with fit."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tfp_flows.layers import ActNorm, AffineCoupling, Flow, MaskedAffine, Permutation, chain


def test_step_zero_is_applied_first_in_the_density_direction():
  a, p = ActNorm(2), Permutation(2, kind="reverse")
  a.loc.assign([1.0, 0.0])
  x = tf.constant([[3.0, 5.0]])
  np.testing.assert_allclose(chain([a, p]).inverse(x), [[5.0, 2.0]])
  np.testing.assert_allclose(chain([p, a]).inverse(x), [[4.0, 3.0]])


def test_conditional_flow_fits_with_keras_and_initialises_actnorm():
  keras.utils.set_random_seed(0)
  flow = Flow([ActNorm(2), AffineCoupling(2, hidden=(16,), context_size=1),
               Permutation(2, kind="reverse"), MaskedAffine(2, hidden_units=16, context_size=1)],
              event_size=2)
  c = np.random.default_rng(0).choice([-1.0, 1.0], [512, 1]).astype("float32")
  x = (np.random.default_rng(1).normal(size=[512, 2]) * 0.3 + 2.0 * c).astype("float32")
  inputs = [keras.Input((2,)), keras.Input((1,))]
  model = keras.Model(inputs, flow(*inputs))
  model.compile(keras.optimizers.Adam(1e-2), loss=lambda _, log_p: -log_p)
  before = -float(tf.reduce_mean(flow(x, c)))
  model.fit([x, c], np.zeros(512), batch_size=128, epochs=15, verbose=0)
  assert flow.steps[0].initialized.numpy()
  after = -float(tf.reduce_mean(flow(x, c)))
  assert after < before - 1.0, (before, after)
  samples = flow.distribution(tf.constant([[1.0]] * 256)).sample(256, seed=1)
  np.testing.assert_allclose(tf.reduce_mean(samples, 0), [2.0, 2.0], atol=0.3)


def test_context_widths_must_agree():
  with pytest.raises(ValueError, match=r"\[2, 3\]"):
    Flow([AffineCoupling(2, hidden=(4,), context_size=3),
          MaskedAffine(2, hidden_units=4, context_size=2)], event_size=2)


def test_flow_checks_its_context():
  flow = Flow([AffineCoupling(2, hidden=(4,), context_size=3)], event_size=2)
  with pytest.raises(ValueError, match=r"\[\.\.\., 3\].*\(5, 2\)"):
    flow(tf.zeros([5, 2]), tf.zeros([5, 2]))
  with pytest.raises(ValueError, match=r"\[\.\.\., 2\].*\(5, 3\)"):
    flow(tf.zeros([5, 3]), tf.zeros([5, 3]))
