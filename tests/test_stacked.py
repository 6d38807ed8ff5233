"""Stacked models train as independent ones: optimizer, plateau rule, and the stacked loss."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tfp_flows.models import IFlow, PerModelReduceLROnPlateau, StackedAdam


def _run(opt, grads, init):
  var = keras.Variable(init)
  for g in grads:
    opt.apply([tf.constant(g)], [var])
  return np.array(var.numpy())


def test_one_model_matches_keras_adam():
  rng = np.random.default_rng(0)
  init, grads = rng.normal(size=(3, 4)).astype("float32"), rng.normal(size=(5, 3, 4)).astype("float32")
  np.testing.assert_allclose(_run(StackedAdam(1, learning_rate=0.01), grads, init),
                             _run(keras.optimizers.Adam(learning_rate=0.01), grads, init),
                             rtol=1e-6, atol=1e-6)  # float32 order of operations; a step is 0.01


def test_per_model_scale_acts_on_its_own_slice_only():
  rng = np.random.default_rng(1)
  init, grads = rng.normal(size=(2, 3)).astype("float32"), rng.normal(size=(4, 2, 3)).astype("float32")
  opt = StackedAdam(2, learning_rate=0.01)
  opt.lr_scale.assign([1.0, 0.25])
  got = _run(opt, grads, init)
  full = _run(keras.optimizers.Adam(learning_rate=0.01), grads, init)
  quarter = _run(keras.optimizers.Adam(learning_rate=0.0025), grads, init)
  np.testing.assert_allclose(got[0], full[0], rtol=1e-6)
  np.testing.assert_allclose(got[1], quarter[1], rtol=1e-6)


class _FakeModel:
  def __init__(self, losses, k):
    self.optimizer, self._losses = StackedAdam(k, learning_rate=1e-3), iter(losses)

  def pop_model_losses(self):
    return np.asarray(next(self._losses), float)


def test_plateau_lowers_only_the_stuck_model():
  losses = [[5.0, 5.0], [4.0, 5.0], [3.0, 5.0], [2.0, 5.0], [1.0, 5.0]]
  model = _FakeModel(losses, 2)
  cb = PerModelReduceLROnPlateau(factor=0.25, patience=2)
  cb.set_model(model)
  cb.on_train_begin()
  scales = []
  for epoch in range(len(losses)):
    cb.on_epoch_end(epoch, {})
    scales.append(model.optimizer.lr_scale.numpy().tolist())
  # model 1 stalls after epoch 0: reduced after 2 more epochs, and again 2 later
  assert scales == [[1, 1], [1, 1], [1, 0.25], [1, 0.25], [1, 0.0625]]


def test_stacked_iflow_equals_separate_models():
  """Model j of a stacked IFlow computes exactly what an IFlow with weights slice j computes."""
  rng = np.random.default_rng(0)
  stacked = IFlow(2, 3, num_steps=1, hidden_units=8, dropout=0.0, num_models=2)
  singles = [IFlow(2, 3, num_steps=1, hidden_units=8, dropout=0.0) for _ in range(2)]
  pairs = [(ws, [m.weights[i] for m in singles]) for i, ws in enumerate(stacked.weights)
           if not ws.path.split("/")[-1].startswith("model_")]
  for ws, _ in pairs:
    if ws.trainable:  # perturb so that zero-initialised parts act
      ws.assign(ws.numpy() + 0.3 * rng.normal(size=ws.shape).astype("float32"))
  for ws, (w0, w1) in pairs:
    w0.assign(ws.numpy()[0])
    w1.assign(ws.numpy()[1])
  x = rng.normal(size=(6, 2, 2)).astype("float32")
  u = np.eye(3, dtype="float32")[rng.integers(0, 3, (6, 2))]
  both = stacked.per_example_loss(x, u).numpy()
  for j, m in enumerate(singles):
    np.testing.assert_allclose(both[:, j], m.per_example_loss(x[:, j], u[:, j]).numpy(),
                               rtol=1e-5, atol=1e-4)  # float32; a wrong model is off by O(1)


def test_a_nonfinite_model_in_a_stack_stops_alone():
  """Model 1's loss is +inf from the start (singular LU): it is frozen, model 0 trains on."""
  rng = np.random.default_rng(0)
  model = IFlow(2, 3, num_steps=1, hidden_units=8, dropout=0.0, num_models=2)
  lu = model.steps[1].lower_upper
  singular = lu.numpy()
  singular[1] = 0.0  # log|det| of model 1's LU step is -inf, so its -log p(x) is +inf
  lu.assign(singular)
  before = [w.numpy().copy() for w in model.trainable_weights]
  model.compile(optimizer=StackedAdam(2, learning_rate=1e-2))
  x = rng.normal(size=(64, 2, 2)).astype("float32")
  u = np.eye(3, dtype="float32")[rng.integers(0, 3, (64, 2))]
  history = model.fit({"x": x, "u": u}, batch_size=16, epochs=2, verbose=0)
  assert np.all(np.isfinite(history.history["loss"])), history.history
  np.testing.assert_array_equal(model.nonfinite_models(), [False, True])
  after = [w.numpy() for w in model.trainable_weights]
  assert any(not np.allclose(a[0], b[0]) for a, b in zip(after, before)), "model 0 did not train"
  for a, b in zip(after, before):
    np.testing.assert_array_equal(a[1], b[1])  # model 1 stays at its last weights
  np.testing.assert_array_equal(model.optimizer.lr_scale.numpy(), [1.0, 0.0])


def test_one_model_reports_a_nonfinite_loss():
  """With K = 1 there is no sibling: the loss fit sees is non-finite, so fit's NaN handling acts."""
  model = IFlow(2, 3, num_steps=1, hidden_units=8, dropout=0.0)
  model.steps[1].lower_upper.assign(np.zeros((2, 2), "float32"))
  model.compile(optimizer=StackedAdam(1, learning_rate=1e-2))
  x = np.random.default_rng(0).normal(size=(32, 2)).astype("float32")
  u = np.eye(3, dtype="float32")[np.arange(32) % 3]
  history = model.fit({"x": x, "u": u}, batch_size=16, epochs=1, verbose=0,
                      callbacks=[keras.callbacks.TerminateOnNaN()])
  assert not np.isfinite(history.history["loss"][-1])
  np.testing.assert_array_equal(model.nonfinite_models(), [True])


def test_parallel_auto_picks_k_for_the_device():
  from tfp_flows.models import stacked

  assert stacked.auto_num_models(100, "/CPU:0") == stacked.CPU_NUM_MODELS
  assert stacked.auto_num_models(3, "/CPU:0") == 3  # never more than the seeds
  gib = 2**30
  # 16 GiB GPU at 110 MiB per model: 0.8 * 16 GiB / 110 MiB = 119 models -> all 100 seeds
  assert stacked.auto_num_models(100, "/GPU:0", memory_bytes=16 * gib) == 100
  assert stacked.auto_num_models(100, "/GPU:0", memory_bytes=2 * gib) == int(0.8 * 2 * gib //
                                                                            (110 * 2**20))
  assert stacked.auto_num_models(100, "/GPU:0", memory_bytes=10) == 1
  with pytest.raises(ValueError, match="num_seeds must be >= 1, got 0"):
    stacked.auto_num_models(0)
  message = stacked.out_of_memory_message(64, "/GPU:0")
  assert "K=64" in message and "6.9 GiB" in message and "--parallel 32" in message


def test_a_stack_out_of_memory_names_k_and_a_smaller_one(monkeypatch):
  import json
  import types

  from experiments import iflow

  class OutOfMemory:
    def train(self, seeds, ctx):
      raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor")

  config = dict(data=dict(n_per_segment=10, n_segments=2, dim=2, n_layers=1), iterations=5,
                iflow={})
  key = json.dumps(["iflow", config["data"], 4, 5, True])
  monkeypatch.setitem(iflow._TRAINERS, key, OutOfMemory())
  ctx = types.SimpleNamespace(members=[f"study/iflow/{s}" for s in (1, 2, 3, 4)], verbose=0)
  with pytest.raises(RuntimeError, match=r"K=4 models ran out of memory.*--parallel 2"):
    iflow.run_task("study/iflow/k4-seeds-1-4", config, ctx)
