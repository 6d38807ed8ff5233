"""NPE: shapes, training on simulated SIR pairs, the Slice model's exact density, bad input."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tfp_flows.layers import SummaryNetwork
from tfp_flows.models import NPE
from tfp_flows.models.npe import product_rotation
from tfp_flows.simulators import SIR, simulation_dataset

SMALL = dict(num_steps=2, hidden=(8,), summary_hidden=(16,), context_size=4)


def _model(task, **kwargs):
  return NPE(task.loc.numpy(), task.scale.numpy(), task.days, **{**SMALL, **kwargs})


def test_fit_lowers_loss_and_shapes():
  # the plain flow with the MLP summary is trained by the study's end-to-end test.
  task = SIR("degenerate", days=20)
  ds = simulation_dataset(task.prior(), task.simulate, 512, 64, seed=1, chunk=256)
  model = _model(task, product_surjection=True, summary="conv")
  model.compile(optimizer=keras.optimizers.Adam(3e-3))
  history = model.fit(ds, epochs=3, verbose=0, shuffle=False).history["loss"]
  assert np.all(np.isfinite(history)) and history[-1] < history[0]
  x = next(iter(ds))["x"][:3]
  draws = model.sample(x, 7, seed=[1, 2])
  assert draws.shape == (3, 7, task.num_params) and np.all(draws.numpy() > 0)
  assert model.log_prob(draws[:, 0], x).shape == (3,)


def test_slice_model_density_is_flow_plus_decoder():
  task = SIR("degenerate", days=10)
  model = _model(task, product_surjection=True)
  x = task.simulate(task.prior().sample(4, seed=3), seed=4)
  theta = task.prior().sample(4, seed=5)
  # independent composition: v = (log theta - loc) / scale, r = M^T v.
  v = (np.log(theta.numpy()) - task.loc.numpy()) / task.scale.numpy()
  r = v @ product_rotation(3)
  context = model.summary(x)
  expected = (model.flow.distribution(context).log_prob(r[:, :2].astype("float32"))
              + model.slice.decoder.distribution(r[:, :2].astype("float32"), context)
              .log_prob(r[:, 2:].astype("float32"))
              - np.log(theta.numpy()).sum(1) - np.log(task.scale.numpy()).sum())
  np.testing.assert_allclose(model.log_prob(theta, x).numpy(), expected, rtol=1e-4, atol=1e-4)


def test_bad_input():
  task = SIR("basic", days=10)
  with pytest.raises(ValueError, match="flow needs >= 2"):
    _model(task, product_surjection=True)
  with pytest.raises(ValueError, match="coupling"):
    _model(task, coupling="maf")
  with pytest.raises(ValueError, match="param_scale"):
    NPE([0.0, 0.0], [1.0, -1.0], 10)
  with pytest.raises(ValueError, match="kind"):
    SummaryNetwork(10, 2, kind="rnn")
  with pytest.raises(ValueError, match=r"\[\.\.\., 10, 2\]"):
    _model(task).summary(tf.zeros((2, 11, 2)))
  with pytest.raises(ValueError, match="num_simulations"):
    simulation_dataset(task.prior(), task.simulate, 0, 8)
