"""Bernoulli VAEs with flow posteriors: ELBO terms, bounds against exact log p(x), training, errors."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfp_flows.models import DLGM, IAFVAE

SMALL = dict(latent_size=1, hidden_units=8, image_shape=(2, 2, 1))


def _images(n, shape=(2, 2, 1), seed=0):
  return (np.random.default_rng(seed).uniform(size=(n,) + shape) < 0.4).astype("float32")


def _quadrature(model, x):
  """Exact log p(x) `[N]`, q's mass `[N]` and the weights' variance E_q[(p(z|x)/q(z|x))^2] - 1.

  For a 1-D latent, by the trapezoid rule on a grid over [-10, 10].
  """
  z = np.linspace(-10, 10, 8001).astype("float32")
  log_joint = (model.vae.decoder.distribution(z[:, None]).log_prob(x[:, None]).numpy()
               - 0.5 * z ** 2 - 0.5 * np.log(2 * np.pi))  # [N, grid]
  peak = log_joint.max(1, keepdims=True)
  exact = np.log(np.trapezoid(np.exp(log_joint - peak), z, axis=1)) + peak[:, 0]
  log_q = model.posterior(x).log_prob(np.tile(z[:, None, None], (1, len(x), 1))).numpy().T
  log_w = log_joint - exact[:, None] - log_q
  variance = np.trapezoid(np.exp(2 * log_w + log_q), z, axis=1) - 1
  return exact, np.trapezoid(np.exp(log_q), z, axis=1), variance


@pytest.mark.parametrize("posterior", ["diagonal", "planar"])
def test_elbo_below_importance_weighted_estimate_which_reaches_exact_log_likelihood(posterior):
  keras.utils.set_random_seed(1)
  model = DLGM(posterior=posterior, num_steps=4, **SMALL)
  x = _images(6)
  model.compile(keras.optimizers.Adam(1e-2))  # a fitted q makes the k-sample estimate converge
  model.fit(np.repeat(x, 100, axis=0), batch_size=60, epochs=3, verbose=0)
  exact, q_mass, variance = _quadrature(model, x)
  np.testing.assert_allclose(q_mass, 1.0, atol=1e-4)  # the posterior's density integrates to 1
  draws = model.elbo(np.repeat(x, 500, axis=0)).reshape(6, 500)  # 500 ELBO draws per image
  elbo, elbo_se = draws.mean(1), draws.std(1) / np.sqrt(500)
  assert np.all(elbo < exact + 3 * elbo_se)
  k = 20000
  iw = model.log_likelihood(x, num_samples=k, chunk_size=5000)
  # Where the importance weights have a moderate variance, the estimate's standard error is
  # about sqrt(variance / k); an ELBO-fitted q can be lighter-tailed than p(z | x), and then
  # the variance explodes and no k converges in practice.
  usable = variance < 20
  assert usable.sum() >= 2, variance
  np.testing.assert_array_less(np.abs(iw - exact)[usable],
                               5 * np.sqrt(variance[usable] / k) + 0.01)


def test_kl_term_is_unbiased_for_the_diagonal_posterior():
  keras.utils.set_random_seed(2)
  model = DLGM(latent_size=3, hidden_units=8, image_shape=(2, 2, 1))
  x = np.repeat(_images(1), 4000, axis=0)
  _, kl = model(x)
  q = model.posterior(x[:1])
  loc, scale = q.distribution.loc.numpy(), q.distribution.scale.numpy()
  exact_kl = 0.5 * np.sum(loc**2 + scale**2 - 1 - 2 * np.log(scale))
  np.testing.assert_allclose(np.mean(kl), exact_kl, atol=4 * np.std(kl) / np.sqrt(4000))


@pytest.mark.parametrize("posterior", ["planar", "nice"])
def test_flow_posterior_density_of_its_samples_matches_the_inverse_density(posterior):
  keras.utils.set_random_seed(3)
  model = DLGM(
    latent_size=4, hidden_units=8, posterior=posterior, num_steps=3, image_shape=(2, 2, 1)
  )
  q = model.posterior(_images(5))
  z, log_q = q.experimental_sample_and_log_prob(seed=(1, 2))
  np.testing.assert_allclose(q.log_prob(tf.identity(z)), log_q, rtol=1e-4, atol=1e-4)


def test_free_bits_and_warmup_shape_the_training_loss_only():
  model = DLGM(free_bits=50.0, kl_warmup_steps=100, **SMALL)
  model.compile(keras.optimizers.Adam(1e-3))
  rec, kl = tf.constant([-3.0, -5.0]), tf.constant([1.0, 3.0])
  train = model.compute_loss(y_pred=(rec, kl), training=True)
  np.testing.assert_allclose(train, 4.0 + 0.01 * 50.0, rtol=1e-6)  # step 0: beta = 0.01
  np.testing.assert_allclose(model.compute_loss(y_pred=(rec, kl), training=False), 6.0)


def test_fit_improves_the_elbo_and_logs_elbo_and_kl():
  keras.utils.set_random_seed(4)
  prototypes = _images(4, (28, 28, 1))
  flips = _images(512, (28, 28, 1), seed=1) * (
    np.random.default_rng(2).uniform(size=(512, 28, 28, 1)) < 0.1
  )
  x = np.abs(prototypes[np.arange(512) % 4] - flips)  # 4 patterns with 4% of pixels flipped
  model = DLGM(posterior="planar", num_steps=2, hidden_units=64, latent_size=8)
  model.compile(keras.optimizers.Adam(3e-3))
  history = model.fit(x, batch_size=64, epochs=3, verbose=0).history
  assert {"loss", "elbo", "kl"} <= set(history)
  assert history["elbo"][-1] > history["elbo"][0] + 50
  assert model.sample(2, seed=(0, 1)).shape == (2, 28, 28, 1)
  assert model.reconstruct(x[:3], seed=(0, 1)).shape == (3, 28, 28, 1)


def test_save_and_reload(tmp_path):
  keras.utils.set_random_seed(5)
  model = DLGM(posterior="planar", num_steps=2, **SMALL)
  x = _images(4)
  model(x)
  path = str(tmp_path / "dlgm.keras")
  model.save(path)
  loaded = keras.saving.load_model(path)
  seed = (3, 4)
  np.testing.assert_allclose(
    loaded.reconstruct(x, seed=seed), model.reconstruct(x, seed=seed), rtol=1e-6
  )


def test_bad_images_and_options_raise():
  model = DLGM(**SMALL)
  with pytest.raises(ValueError, match=r"shape \(3, 4\), expected \[batch, 2, 2, 1\]"):
    model(np.zeros((3, 4), "float32"))
  with pytest.raises(ValueError, match=r"DLGM: x must be binary \(values 0 or 1\) .*, got "
                                       r"x\[0, 0, 0, 0\] = 0.5 \(12 of 12 entries are not\)"):
    model(np.full((3, 2, 2, 1), 0.5, "float32"))
  with pytest.raises(ValueError, match="unknown posterior 'iaf'"):
    DLGM(posterior="iaf")
  with pytest.raises(ValueError, match="free_bits"):
    DLGM(free_bits=-1.0)


def test_fit_under_mirrored_strategy_on_two_cpu_devices():
  script = textwrap.dedent("""
      import numpy as np, keras, tensorflow as tf
      cpu = tf.config.list_physical_devices("CPU")[0]
      tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
      from tfp_flows.models import DLGM
      strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
      x = (np.random.default_rng(0).uniform(size=(256, 28, 28, 1)) < 0.3).astype("float32")
      with strategy.scope():
        model = DLGM(posterior="planar", num_steps=2, hidden_units=32, latent_size=4)
        model.compile(keras.optimizers.Adam(1e-3))
      history = model.fit(x, batch_size=64, epochs=2, verbose=0).history
      assert strategy.num_replicas_in_sync == 2
      assert np.all(np.isfinite(history["loss"])), history
      print("replicas", strategy.num_replicas_in_sync, "elbo", history["elbo"])
  """)
  env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}
  out = subprocess.run(
    [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
  )
  assert out.returncode == 0, out.stderr[-3000:]
  assert "replicas 2" in out.stdout


@pytest.mark.parametrize("sigma", ["learned", "constant"])
def test_iaf_posterior_samples_carry_their_exact_log_density(sigma):
  keras.utils.set_random_seed(6)
  model = IAFVAE(latent_size=4, posterior="iaf", depth=2, width=16, sigma=sigma,
                 channels=(4, 4, 4), hidden_units=16, context_size=8)
  x = _images(3, (28, 28, 1))
  for step in model.vae.encoder.steps[::2]:  # move the MADEs' zero-initialised outputs off 0
    last = step.made.last
    last.kernel.assign(tf.random.normal(last.kernel.shape, stddev=0.3))
  q = model.posterior(x)
  z, log_q = q.experimental_sample_and_log_prob(seed=(5, 6))
  np.testing.assert_allclose(q.log_prob(tf.identity(z)), log_q, rtol=1e-4, atol=1e-4)
  base = q.distribution.log_prob(q.bijector.inverse(tf.identity(z)))
  if sigma == "constant":  # volume preserving: log q(z) = log N(eps)
    np.testing.assert_allclose(log_q, base, rtol=1e-5, atol=1e-5)
  else:
    assert np.all(np.abs(log_q - base) > 1e-3)
  assert np.all(np.isfinite(model.distribution().log_prob(x)))
  with pytest.raises(ValueError, match="unknown sigma 'fixed'"):
    IAFVAE(posterior="iaf", sigma="fixed")
