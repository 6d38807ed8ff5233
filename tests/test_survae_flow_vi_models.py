"""models.SurVAEFlow and models.FlowVI: the distribution they build, fit, save/reload, errors."""
import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows import layers, targets
from tfp_flows.models import FlowVI, SurVAEFlow

tfb, tfd = tfp.bijectors, tfp.distributions


def abs_flow(context_size=None):
  keras.utils.set_random_seed(0)
  steps = [layers.AffineCoupling(2, hidden=(8,), context_size=context_size),
           layers.Householder(2)]
  return SurVAEFlow([layers.Abs(2), tfb.Softplus()] + steps, latent_shape=(2,),
                    context_size=context_size), steps


def test_distribution_is_the_hand_built_composition():
  model, steps = abs_flow()
  x = tf.random.stateless_normal([5, 2], seed=(1, 2))
  base = tfd.Sample(tfd.Normal(0.0, 1.0), 2)
  by_hand = model.parts[0].distribution(tfd.TransformedDistribution(
      base, tfb.Chain([tfb.Softplus(), layers.chain(steps)])))
  np.testing.assert_array_equal(model.distribution().log_prob(x), by_hand.log_prob(x))
  assert model.is_exact


def test_bound_model_is_flagged_and_iw_estimate_is_above_the_bound():
  keras.utils.set_random_seed(0)
  model = SurVAEFlow([layers.Augment(2, 2), layers.AffineCoupling(4, hidden=(8,))],
                     latent_shape=(4,))
  for v in model.trainable_variables:  # a zero-initialised coupling would make the bound tight
    v.assign(tf.random.stateless_normal(v.shape, seed=(3, 4)) * 0.5)
  x = tf.random.stateless_normal([4, 2], seed=(1, 2))
  assert not model.is_exact
  tf.random.set_seed(0)
  bound = np.mean([model(x).numpy() for _ in range(50)], axis=0)
  assert np.all(model.log_likelihood(x, num_samples=200).numpy() > bound)


def test_conditional_fit_lowers_the_loss_and_reloads(tmp_path):
  model, _ = abs_flow(context_size=3)
  rng = np.random.default_rng(0)
  x = rng.normal(size=(256, 2)).astype("float32") * [2.0, 0.5]
  c = np.eye(3, dtype="float32")[rng.integers(0, 3, 256)]
  model.compile(optimizer=keras.optimizers.Adam(1e-2))  # default loss: -mean log_prob
  history = model.fit((x, c), batch_size=64, epochs=4, verbose=0)
  assert history.history["loss"][-1] < history.history["loss"][0]
  path = str(tmp_path / "survae.keras")
  model.save(path)
  again = keras.saving.load_model(path)
  np.testing.assert_allclose(again((x[:8], c[:8])), model((x[:8], c[:8])), rtol=1e-6)


def test_survae_flow_errors():
  with pytest.raises(ValueError, match="parts must be a non-empty list"):
    SurVAEFlow([], latent_shape=(2,))
  with pytest.raises(TypeError, match=r"parts\[1\] must be a flow-step layer"):
    SurVAEFlow([layers.Abs(2), "softplus"], latent_shape=(2,))
  with pytest.raises(ValueError, match=r"parts\[0\] \(AffineCoupling\) expects a context of "
                     r"width 3, but context_size=None"):
    SurVAEFlow([layers.AffineCoupling(2, hidden=(8,), context_size=3)], latent_shape=(2,))
  with pytest.raises(ValueError, match=r"takes \(x, context\)"):
    abs_flow(context_size=3)[0](tf.zeros([1, 2]))


def test_flow_vi_log_q_is_the_flow_density_at_its_samples():
  keras.utils.set_random_seed(0)
  flow = layers.Flow([layers.AdditiveCoupling(2, hidden=(8,), parity=i % 2) for i in range(2)]
                     + [layers.Scaling(2)], event_size=2)
  model = FlowVI(flow, targets.U1, anneal_steps=20, batch_size=64)
  model.compile(optimizer=keras.optimizers.Adam(1e-2))
  history = model.fit(tf.data.Dataset.from_tensors(0.0).repeat(), epochs=3, steps_per_epoch=20,
                      verbose=0, shuffle=False)
  assert history.history["free_energy"][-1] < history.history["free_energy"][0]
  x, log_q = model.sample_and_log_prob(100)
  np.testing.assert_allclose(log_q, flow.distribution().log_prob(tf.identity(x)), atol=1e-4)


def test_flow_vi_errors():
  flow = layers.Flow([layers.Planar(2)], event_size=2)
  with pytest.raises(ValueError, match="anneal_steps must be > 0, got 0"):
    FlowVI(flow, targets.U1, anneal_steps=0, batch_size=10)
  with pytest.raises(TypeError, match="energy must be a callable"):
    FlowVI(flow, "U1", anneal_steps=10, batch_size=10)
  with pytest.raises(ValueError, match="batch_size must be an integer >= 1, got 0"):
    FlowVI(flow, targets.U1, anneal_steps=10, batch_size=0)
  with pytest.raises(TypeError, match="flow must be a layer with distribution"):
    FlowVI(layers.Planar(2), targets.U1, anneal_steps=10, batch_size=10)
