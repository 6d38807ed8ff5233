"""Stacked models train as independent ones: optimizer, plateau rule, and the stacked loss."""
import keras
import numpy as np
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
           if "model_loss" not in ws.path]
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
