"""`reproduce iaf-mnist` / `reproduce planar-mnist` end to end on tiny settings: results, resume,
report, a NaN keeping the last good checkpoint, the estimators the table reports."""

import json
import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from experiments import iaf_mnist, planar_mnist, runner, vae_study
from tfp_flows import cli
from tfp_flows.models import DLGM, IAFVAE

TINY = dict(
  epochs=2,
  steps_per_epoch=5,
  batch_size=20,
  learning_rate=1e-3,
  val_points=40,
  eval_points=40,
  iw_points=20,
  iw_samples=4,
  iw_chunk=2,
)
RUN_KEYS = (
  "elbo",
  "elbo_se",
  "log_likelihood",
  "log_likelihood_se",
  "gap",
  "bits_per_dim",
  "train_seconds",
  "eval_seconds",
)


SMALL_DLGM = dict(latent_size=4, hidden_units=32)
SMALL_RESNET = dict(channels=(4, 4, 4), hidden_units=16, context_size=16)


@pytest.fixture
def planar_tiny(monkeypatch):
  monkeypatch.setitem(
    planar_mnist.PRESETS, "tiny", dict(TINY, models=("diagonal", "planar_k10"), kl_warmup_steps=4)
  )
  monkeypatch.setitem(planar_mnist.MODELS, "diagonal", dict(posterior="diagonal", **SMALL_DLGM))
  monkeypatch.setitem(
    planar_mnist.MODELS, "planar_k10", dict(posterior="planar", num_steps=2, **SMALL_DLGM)
  )


def _read(path):
  with open(path) as f:
    return json.load(f) if str(path).endswith(".json") else f.read()


def _reproduce(study, out, mnist_dir, data_dir, *extra):
  return cli.main(
    [
      "reproduce",
      study,
      "--preset",
      "tiny",
      "--out",
      str(out),
      "--mnist-dir",
      mnist_dir,
      "--data-dir",
      data_dir,
      *extra,
    ]
  )


def _check_runs(out, names, epochs, iterations):
  results = _read(out / "results.json")
  runs = {k: v for k, v in results["tasks"].items() if k != "latent2d"}
  assert sorted(runs) == sorted(names)
  for name, run in runs.items():
    assert all(math.isfinite(run[k]) for k in RUN_KEYS), run
    assert (run["epochs"], run["iterations"], run["stopped"]) == (epochs, iterations, None)
    assert (run["eval_points"], run["iw_points"], run["iw_samples"]) == (40, 20, 4)
    per_image = np.load(out / "tasks" / name / "eval.npz")
    elbo, log_p = per_image["elbo"], per_image["log_likelihood"]
    assert elbo.shape == (40,) and log_p.shape == (20,) and np.all(elbo < 0) and np.all(log_p < 0)
    # The reported numbers are those of the saved per-image values, on the same images.
    np.testing.assert_allclose(run["elbo"], elbo.mean(), rtol=1e-6)
    np.testing.assert_allclose(run["gap"], np.mean(log_p - elbo[:20]), rtol=1e-5)
    np.testing.assert_allclose(run["bits_per_dim"], -log_p.mean() / (784 * np.log(2)), rtol=1e-5)
    state = _read(out / "tasks" / name / "state.json")
    assert state["epochs"] == epochs and len(state["history"]["val_elbo"]) == epochs
    assert np.all(np.isfinite(state["history"]["loss"]))
  return results


@pytest.mark.slow
def test_planar_study_end_to_end_resumes_and_reports(
  planar_tiny, tmp_path, mnist_dir, mnist_data_dir, monkeypatch
):
  assert _reproduce("planar-mnist", tmp_path, mnist_dir, mnist_data_dir) == 0
  _check_runs(tmp_path, ("diagonal", "planar_k10"), epochs=2, iterations=10)
  for png in ("curves.png", "reconstructions.png", "samples.png"):
    assert os.path.getsize(tmp_path / png) > 5000
  text = _read(tmp_path / "results.md")
  assert "| planar_k10 | 2 |" in text and "**planar_k10** vs diagonal: ELBO" in text
  # Every model sees the same binary test images, cached in its task folder.
  test = np.load(tmp_path / "tasks" / "diagonal" / "test_images.npy")
  assert test.shape == (40, 28, 28, 1) and set(np.unique(test)) <= {0.0, 1.0}
  np.testing.assert_array_equal(test, np.load(tmp_path / "tasks" / "planar_k10" / "test_images.npy"))

  def no_training(*a, **k):
    raise AssertionError("a finished model was trained again")

  monkeypatch.setattr(vae_study, "train", no_training)
  before = _read(tmp_path / "results.json")
  assert _reproduce("planar-mnist", tmp_path, mnist_dir, mnist_data_dir) == 0
  assert _read(tmp_path / "results.json") == before
  os.remove(tmp_path / "results.md")
  assert cli.main(["report", "--out", str(tmp_path)]) == 0
  assert "| diagonal | 2 |" in _read(tmp_path / "results.md")


def test_interrupted_model_resumes_at_its_epoch_and_a_broken_cache_restarts_it(
  planar_tiny, tmp_path, mnist_dir, mnist_data_dir, monkeypatch
):
  data = dict(mnist_dir=mnist_dir, data_dir=mnist_data_dir)
  preset = dict(planar_mnist.PRESETS["tiny"], epochs=1)
  ctx = runner.TaskContext(str(tmp_path), "diagonal")
  model, _ = vae_study.train(planar_mnist.build, "diagonal", preset, ctx, data)  # "interrupted"
  iterations = model.optimizer.iterations.numpy()
  fits = []
  monkeypatch.setattr(DLGM, "fit", lambda self, *a, **k: fits.append(k["initial_epoch"]))
  resumed, _ = vae_study.train(planar_mnist.build, "diagonal", dict(preset, epochs=2), ctx, data)
  assert fits == [1] and resumed.optimizer.iterations.numpy() == iterations == 5
  for a, b in zip(model.get_weights(), resumed.get_weights()):
    np.testing.assert_array_equal(a, b)
  state, weights = tmp_path / "tasks" / "diagonal" / "state.json", tmp_path / "tasks" / "diagonal" / "model.weights.h5"
  text = state.read_text()
  for path, broken in ((state, text[: len(text) // 2]), (weights, "not HDF5")):
    path.write_text(broken)
    with pytest.warns(RuntimeWarning, match=f"{path} is broken .*restarting this task from scratch"):
      fresh, st = vae_study.train(planar_mnist.build, "diagonal", dict(preset, epochs=2), ctx, data)
    assert fits[-1] == 0 and st["epochs"] == 0 and fresh.optimizer.iterations.numpy() == 0
    state.write_text(text)
    weights.unlink(missing_ok=True)
    model.save_weights(weights)


class DivergingDLGM(DLGM):
  """A DLGM whose loss (and so its weights) turns NaN from the 8th update on."""

  def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
    loss = super().compute_loss(x, y, y_pred, sample_weight, training)
    if training:
      loss = loss * tf.where(self.optimizer.iterations >= 7, np.nan, 1.0)
    return loss


def test_nan_keeps_the_last_good_checkpoint_and_the_study_goes_on(
  planar_tiny, tmp_path, mnist_dir, mnist_data_dir, monkeypatch
):
  build = planar_mnist.build

  def diverging_first(name, preset):
    if name != "diagonal":
      return build(name, preset)
    model = DivergingDLGM(posterior="diagonal", **SMALL_DLGM)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model

  monkeypatch.setattr(planar_mnist, "build", diverging_first)
  monkeypatch.setitem(planar_mnist.PRESETS["tiny"], "epochs", 3)
  assert _reproduce("planar-mnist", tmp_path, mnist_dir, mnist_data_dir) == 0
  runs = _read(tmp_path / "results.json")["tasks"]
  assert runs["diagonal"]["stopped"].startswith("non-finite loss (nan) by iteration 8")
  assert runs["diagonal"]["nonfinite"] == runs["diagonal"]["stopped"]
  assert runs["diagonal"]["epochs"] == 1  # updates 0-4 were finite, the 8th was not
  # The NaN weights were replaced by epoch 1's checkpoint: its evaluation is finite.
  assert all(math.isfinite(runs["diagonal"][k]) for k in RUN_KEYS)
  assert runs["planar_k10"]["epochs"] == 3 and runs["planar_k10"]["stopped"] is None


@pytest.mark.slow
def test_iaf_study_end_to_end_with_the_2d_latent_study(
  tmp_path, mnist_dir, mnist_data_dir, monkeypatch
):
  monkeypatch.setitem(
    iaf_mnist.PRESETS,
    "tiny",
    dict(TINY, models=("iaf_d2_w320",), free_bits=0.0, latent2d_steps=5),
  )
  monkeypatch.setitem(iaf_mnist.MODELS, "iaf_d2_w320", dict(posterior="iaf", depth=2, width=8))
  monkeypatch.setattr(
    iaf_mnist, "LATENT2D", dict(iaf_mnist.LATENT2D, grid=11, elbo_draws=5, iw_samples=4, width=8)
  )
  monkeypatch.setattr(iaf_mnist, "IAFVAE", lambda **k: IAFVAE(**k, **SMALL_RESNET))
  assert _reproduce("iaf-mnist", tmp_path, mnist_dir, mnist_data_dir, "--free-bits", "0.5") == 0
  results = _check_runs(tmp_path, ("iaf_d2_w320",), epochs=2, iterations=10)
  assert results["config"]["free_bits"] == 0.5
  latent = results["tasks"]["latent2d"]
  for posterior in ("diagonal", "iaf"):
    assert np.all(np.isfinite(latent[posterior]["elbo"] + latent[posterior]["log_likelihood"]))
  with np.load(tmp_path / "tasks" / "latent2d" / "latent2d.npz") as d:
    assert d["prior"].shape == (11, 11) and d["iaf"].shape == d["diagonal"].shape == (4, 11, 11)
    # A density on the grid: the prior's peak is N(0; 0, I) = 1 / (2 pi).
    np.testing.assert_allclose(d["prior"].max(), 1 / (2 * np.pi), rtol=1e-5)
  for png in ("curves.png", "reconstructions.png", "samples.png", "latent2d.png"):
    assert os.path.getsize(tmp_path / png) > 5000
  assert "## 2-D latent study" in _read(tmp_path / "results.md")


def test_importance_weighted_estimate_with_k_1_is_an_elbo_and_grows_with_k(
  mnist_dir, mnist_data_dir, tmp_path
):
  """What the table's two columns are: k = 1 gives the ELBO's distribution; k = 4 is higher on
  average (Burda et al. 2016, Theorem 1)."""
  keras.utils.set_random_seed(3)
  model = DLGM(latent_size=4, hidden_units=32)
  x = vae_study.fixed_images(
    str(tmp_path), "test", 5, dict(mnist_dir=mnist_dir, data_dir=mnist_data_dir)
  )
  reps = np.repeat(x, 400, axis=0)
  elbo = model.elbo(reps).reshape(5, 400)
  k1 = model.log_likelihood(reps, num_samples=1, chunk_size=1).reshape(5, 400)
  k4 = model.log_likelihood(reps, num_samples=4, chunk_size=2).reshape(5, 400)
  se = np.sqrt((elbo.var(1) + k1.var(1)) / 400)
  assert np.all(np.abs(elbo.mean(1) - k1.mean(1)) < 4 * se)
  assert np.all(k4.mean(1) > elbo.mean(1))


@pytest.mark.parametrize("argv,message", [
    (["planar-mnist", "--models", "planar_k7"], "--models: unknown 'planar_k7'; expected names"),
    (["planar-mnist", "--epochs", "0"], "--epochs must be an integer >= 1, got '0'"),
    (["iaf-mnist", "--free-bits", "-1"], "--free-bits must be a finite number >= 0, got '-1'"),
    (["iaf-mnist", "--preset", "gpu"], "--preset: unknown 'gpu'"),
])
def test_bad_options_are_named(tmp_path, capsys, argv, message):
  with pytest.raises(SystemExit):
    cli.main(["reproduce", *argv, "--out", str(tmp_path)])
  assert message in capsys.readouterr().err and not os.path.exists(tmp_path / "tasks")
