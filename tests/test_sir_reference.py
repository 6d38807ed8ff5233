"""Reference posterior by NUTS: recovers a conjugate posterior; reports non-convergence; bad input."""
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.simulators import SIR
from tfp_flows.simulators.reference import sample_posterior, sir_reference

tfb, tfd = tfp.bijectors, tfp.distributions


def test_recovers_gamma_poisson_posterior():
  # theta ~ Gamma(a, b), x_i ~ Poisson(theta): posterior Gamma(a + sum x, b + n).
  a, b = 2.0, 1.0
  counts = np.array([[3.0, 5.0, 4.0], [0.0, 1.0, 0.0]])  # two observations (batch)
  prior = tfd.Gamma(tf.constant(a, tf.float64), tf.constant(b, tf.float64))

  def target(theta):  # [chains, 2, 1]
    lam = theta[..., 0]
    return (prior.log_prob(lam)
            + tf.reduce_sum(tfd.Poisson(lam[..., None]).log_prob(tf.constant(counts)), -1))

  init = tf.constant(np.random.default_rng(0).gamma(a, 1 / b, (4, 2, 1)), tf.float64)
  ref = sample_posterior(target, init, tfb.Exp(), num_results=400, num_burnin=200,
                         max_tree_depth=3, seed=3, jit_compile=False)
  post_a, post_b = a + counts.sum(1), b + counts.shape[1]
  mean, std = post_a / post_b, np.sqrt(post_a) / post_b
  assert ref.samples.shape == (2, 1600, 1) and ref.converged.all(), ref.rhat
  se = std / np.sqrt(ref.ess[:, 0])
  np.testing.assert_array_less(np.abs(ref.samples[:, :, 0].mean(1) - mean), 4 * se)
  np.testing.assert_allclose(ref.samples[:, :, 0].std(1), std, rtol=0.15)


def test_nonconvergence_is_reported():
  # Two far-apart modes, chains started in different ones: R-hat >> 1.05.
  mix = tfd.MixtureSameFamily(tfd.Categorical(logits=tf.zeros(2, tf.float64)),
                              tfd.Normal(tf.constant([-20.0, 20.0], tf.float64), 1.0))
  init = tf.constant([[[-20.0]], [[20.0]], [[-20.0]], [[20.0]]], tf.float64)
  ref = sample_posterior(lambda t: mix.log_prob(t[..., 0]), init, tfb.Identity(),
                         num_results=20, num_burnin=10, max_tree_depth=2, jit_compile=False)
  assert not ref.converged[0] and ref.rhat[0, 0] > 1.05


def test_bad_input():
  task = SIR()
  with pytest.raises(ValueError, match="num_chains"):
    sir_reference(task, np.zeros((1, 100, 2)), num_chains=1)
  with pytest.raises(ValueError, match=r"x.*\[\.\.\., 100, 2\]"):
    sir_reference(task, np.zeros((1, 90, 2)))
  with pytest.raises(ValueError, match="initial_state"):
    sample_posterior(lambda t: t[..., 0], tf.zeros((1, 2, 1)), tfb.Identity())
