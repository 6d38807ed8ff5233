"""IFlow and IVAE: exact flow numbers, input checks, save/reload, and a tiny training run."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tfp_flows.datasets import nonstationary_sources
from tfp_flows.models import IFlow, IVAE, StackedAdam


def _tiny_iflow(**kw):
  return IFlow(3, 4, num_steps=2, hidden_units=8, dropout=0.0, **kw)


def test_flow_round_trip_and_log_det_match_autodiff_in_float64():
  model = _tiny_iflow(dtype="float64")
  rng = np.random.default_rng(0)
  for v in model.trainable_variables:
    v.assign(v.numpy() + 0.2 * rng.normal(size=v.shape))
  flow = model.bijector()
  x = tf.constant(rng.normal(size=(5, 3)) * 2)
  with tf.GradientTape() as tape:
    tape.watch(x)
    z = flow.inverse(x)
  _, logdet = np.linalg.slogdet(tape.batch_jacobian(z, x).numpy())
  np.testing.assert_allclose(flow.inverse_log_det_jacobian(tf.identity(x), 1), logdet, atol=1e-6)
  np.testing.assert_allclose(model.bijector().forward(tf.identity(z)), x, atol=1e-9)
  u = np.eye(4)[[0, 1, 2, 3, 0]]
  expected = model.prior.distribution(u).log_prob(z) + logdet
  np.testing.assert_allclose(-model.per_example_loss(x, u), expected, atol=1e-6)


def test_paper_sized_iflow_has_about_2_9_million_parameters():
  assert 2.8e6 < IFlow(5, 40).count_params() < 3.0e6


@pytest.mark.parametrize("make", [_tiny_iflow, lambda: IVAE(3, 3, 4)])
def test_bad_inputs_are_named_before_training(make):
  model = make()
  x, u = np.zeros((8, 3), "float32"), np.eye(4, dtype="float32")[np.arange(8) % 4]
  model.check_inputs(x, u)
  with pytest.raises(ValueError, match=r"non-finite.*x\[2, 1\] = nan"):
    bad = x.copy()
    bad[2, 1] = np.nan
    model.check_inputs(bad, u)
  with pytest.raises(ValueError, match=r"x has shape \(8, 2\), expected \[N, 3\]"):
    model.check_inputs(x[:, :2], u)
  with pytest.raises(ValueError, match="not one-hot over 4 segments"):
    model.check_inputs(x, u * 2)
  with pytest.raises(ValueError, match="one-hot over n_segments=4"):
    model.check_inputs(x, u[:, :3])


@pytest.mark.parametrize("make", [_tiny_iflow, lambda: IVAE(3, 3, 4)])
def test_fit_rejects_bad_data_before_training(make):
  """`fit` itself checks x and u (arrays up front, a tf.data pipeline batch by batch)."""
  model = make()
  model.compile(optimizer=StackedAdam(1, learning_rate=1e-3), jit_compile=False)  # XLA: not what is tested
  x, u = np.zeros((8, 3), "float32"), np.eye(4, dtype="float32")[np.arange(8) % 4]
  nan = x.copy()
  nan[5, 0] = np.nan
  cases = [({"x": nan, "u": u}, r"non-finite.*x\[5, 0\] = nan"),
           ({"x": np.full_like(x, np.inf), "u": u}, "non-finite"),
           ({"x": x, "u": u * 0.5}, "not one-hot"),
           ({"x": x[:, :2], "u": u}, r"x has shape \(8, 2\), expected \[N, 3\]"),
           ({"x": x, "u": u[:, :3]}, r"u has shape \(8, 3\)"),
           ({"x": x, "u": u[:6]}, "different batch sizes: 8 and 6"),
           ({"x": x[:0], "u": u[:0]}, "x is empty"),
           ({"x": x}, "expected data {'x': x, 'u': u}")]
  for data, message in cases:
    with pytest.raises(ValueError, match=message):
      model.fit(data, batch_size=4, epochs=1, verbose=0)
  with pytest.raises(TypeError, match="x must be a dict"):
    model.fit(x, batch_size=4, verbose=0)
  assert model.optimizer.iterations.numpy() == 0  # nothing trained
  pipeline = tf.data.Dataset.from_tensor_slices({"x": nan, "u": u}).batch(4)
  with pytest.raises(tf.errors.InvalidArgumentError, match="x has non-finite values"):
    model.fit(pipeline, epochs=1, verbose=0, shuffle=False)
  pipeline = tf.data.Dataset.from_tensor_slices({"x": x, "u": u * 0.5}).batch(4)
  with pytest.raises(tf.errors.InvalidArgumentError, match="u is not one-hot"):
    model.fit(pipeline, epochs=1, verbose=0, shuffle=False)
  with pytest.raises(ValueError, match="x has width 2 in the dataset, expected 3"):
    model.fit(tf.data.Dataset.from_tensor_slices({"x": x[:, :2], "u": u}).batch(4), verbose=0,
              shuffle=False)


def test_stacked_model_given_unstacked_data_says_so():
  model = _tiny_iflow(num_models=2)
  model.compile(optimizer=StackedAdam(2, learning_rate=1e-3))
  x, u = np.zeros((8, 3), "float32"), np.eye(4, dtype="float32")[np.arange(8) % 4]
  with pytest.raises(ValueError, match=r"expected \[N, 2, 3\].*num_models=2.*stacked on axis 1"):
    model.fit({"x": x, "u": u}, batch_size=4, verbose=0)


def test_iflow_saves_and_reloads(tmp_path):
  model = _tiny_iflow()
  x = np.random.default_rng(1).normal(size=(4, 3)).astype("float32")
  u = np.eye(4, dtype="float32")
  for v in model.trainable_variables:
    v.assign(v + 0.1)
  path = str(tmp_path / "iflow.keras")
  model.save(path)
  again = keras.saving.load_model(path)
  np.testing.assert_allclose(again.per_example_loss(x, u), model.per_example_loss(x, u), rtol=1e-5)


@pytest.mark.parametrize("name", ["iflow", "ivae"])
def test_tiny_training_run_lowers_the_loss(name):
  keras.utils.set_random_seed(0)
  data = nonstationary_sources(50, 4, 2, seed=1)
  x, u = data["x"], data["u"]
  model = (IFlow(2, 4, num_steps=1, hidden_units=16, dropout=0.0) if name == "iflow"
           else IVAE(2, 2, 4))
  before = float(np.mean(model.per_example_loss(x, u)))
  model.compile(optimizer=StackedAdam(1, learning_rate=3e-3))
  history = model.fit({"x": x, "u": u}, batch_size=64, epochs=15, verbose=0)
  after = float(np.mean(model.per_example_loss(x, u)))
  assert np.isfinite(history.history["loss"]).all()
  assert after < before - 0.5, (before, after)
