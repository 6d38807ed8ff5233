"""What the binarized-MNIST VAE studies (`iaf-mnist`, `planar-mnist`) share: options, training, evaluation.

Each study is an `experiments.runner.Study` with one task per model (key: the model's name);
`vae_study` gives it `add_arguments`, `configure`, its model `builder` and the task body
`run_model`:

* The task folder `tasks/<name>/` holds `model.weights.h5` (weights and optimizer state) of
  the last finished epoch whose loss and weights were finite, and `state.json` (epochs done,
  per-epoch `loss` / `elbo` / `kl` / `val_elbo` in nats, wall seconds of training so far,
  and why training stopped early, if it did). A rerun loads them and continues `model.fit` at
  `initial_epoch`; the optimizer's state (moments and the update count that drives the KL
  warm-up) is restored too. A broken cache (unreadable `state.json` or weights, one without
  the other) is named in a warning and the model restarts from scratch.
* Training: `model.fit` on `load_mnist("train")` (dynamic binarization: a fresh
  Bernoulli(pixel / 255) draw every time an image is used, shuffled), validated each epoch on
  the first `val_points` images of the validation split; a non-finite loss stops the model
  at its last finite epoch (the runner's `FiniteGuard`), the stop is recorded, and the study
  goes on with the next model.
* Evaluation on the test split, dynamically binarized once with the fixed seed `EVAL_SEED`
  and cached in the task folder (`test_images.npy`), so every model (and every rerun) sees
  the same binary images: the mean one-sample ELBO over `eval_points` images, the
  importance-weighted log p(x) (Burda et al. 2016) with k = `iw_samples` on the first
  `iw_points` of them, their gap and the bits/dim of -log p(x) (784 dimensions). All in nats.

`experiments.vae_report` writes `results.md` and the figures (the study's `report`).
"""

import json
import os
import time

import keras
import numpy as np

from experiments import runner
from tfp_flows.datasets.mnist import load_mnist
from tfp_flows.metrics import bits_per_dim

EVAL_SEED = 2016  # dynamic binarization of the test images (and of fixed training images)
NUM_DIMS = 28 * 28
STATE_KEYS = ("loss", "elbo", "kl", "val_elbo")
CACHE = ("model.weights.h5", "state.json")


def add_arguments(parser, models):
  """The options both studies share, beside the runner's (`--preset`, `--out`, ...)."""
  runner.add_names(parser, "--models", f"some of {sorted(models)} (default: the preset's)")
  runner.add_count(parser, "--epochs", "override the preset's epochs (>= 1)")
  parser.add_argument(
    "--mnist-dir", default=None, help="folder of the MNIST IDX files (default: tfp_flows' default)"
  )
  parser.add_argument("--data-dir", default=None, help="tfds data folder (default: tfds')")


def configure(args, preset, models):
  """The run config: the preset with `--epochs`, the models to train, data folders, `eval_seed`.

  Raises:
    ValueError: naming the option, for `--epochs` < 1 or a model not in `models`; or for a
      preset whose `iw_points` exceeds its `eval_points`.
  """
  if preset["iw_points"] > preset["eval_points"]:
    raise ValueError(
      f"iw_points ({preset['iw_points']}) must be <= eval_points ({preset['eval_points']})."
    )
  runner.override_count(preset, args, "--epochs")
  names = runner.choices("--models", args.models or preset["models"], models)
  return dict(preset, models=names, mnist_dir=args.mnist_dir, data_dir=args.data_dir,
              eval_seed=EVAL_SEED)


def builder(model_class, models, optimizer, preset_options=()):
  """The `build(name, preset)` of a VAE study: the named model, compiled.

  Args:
    model_class: a `tfp_flows.models.vae.BernoulliVAE` subclass, e.g. `IAFVAE` or `DLGM`.
    models: the study's dict name -> constructor keyword arguments.
    optimizer: a Keras optimizer class, made with the preset's `learning_rate`.
    preset_options: constructor arguments taken from the preset, e.g. `("free_bits",)`.

  Returns:
    `build(name, preset) -> model_class(**models[name], **{o: preset[o] for o in
    preset_options})`, compiled with `optimizer(preset["learning_rate"])`.
  """

  def build(name, preset):
    model = model_class(**models[name], **{o: preset[o] for o in preset_options})
    model.compile(optimizer=optimizer(preset["learning_rate"]))
    return model

  return build


def data_options(config):
  """The `load_mnist` keyword arguments of a run config (`mnist_dir`, `data_dir`)."""
  return dict(mnist_dir=config["mnist_dir"], data_dir=config["data_dir"])


def fixed_images(folder, split, count, data=None, seed=EVAL_SEED):
  """The first `count` images of `split`, binarized once with `seed`; cached in `folder`.

  Returns:
    `[count, 28, 28, 1]` float32 NumPy array in {0, 1}; the same array on every call
    (read back from `folder/<split>_images.npy` after the first; a broken cache is named in
    a warning and rebuilt).
  """
  path = os.path.join(folder, f"{split}_images.npy")
  if os.path.exists(path):
    try:
      images = np.load(path)
      if len(images) >= count:
        return images[:count]
    except (OSError, ValueError) as e:
      runner.warn_cache(path, e)
  dataset = load_mnist(split, "dynamic", batch_size=count, seed=seed, **(data or {}))
  images = next(iter(dataset)).numpy()
  os.makedirs(folder, exist_ok=True)
  np.save(path, images)
  return images


class EpochCheckpoint(keras.callbacks.Callback):
  """Saves each finished epoch (weights and optimizer, then `state.json`) to resume from.

  Place it after the runner's `FiniteGuard`: an epoch the guard stopped (`ctx.nonfinite`
  set) is not saved, and the reason goes to the state's `stopped`, so a rerun does not train
  the model on. Files are written to a temporary name and moved into place, so an
  interrupted run resumes from a consistent epoch. A `budget_s` stops training at the end of
  the epoch that passes it (wall seconds of training, summed over reruns).

  Args:
    folder: the task's folder.
    state: the dict kept in `state.json` (updated in place).
    ctx: the task's `runner.TaskContext`.
    budget_s: optional wall-clock budget of the model's training, seconds.
  """

  def __init__(self, folder, state, ctx, budget_s=None):
    super().__init__()
    self.folder, self.state, self.ctx, self.budget_s = folder, state, ctx, budget_s

  def on_epoch_begin(self, epoch, logs=None):
    self.start = time.time()

  def on_epoch_end(self, epoch, logs=None):
    logs = logs or {}
    self.state["seconds"] += time.time() - self.start
    if self.ctx.nonfinite:
      self.state["stopped"] = self.ctx.nonfinite
    else:
      self.model.save_weights(os.path.join(self.folder, "tmp.weights.h5"))
      os.replace(
        os.path.join(self.folder, "tmp.weights.h5"), os.path.join(self.folder, CACHE[0])
      )
      self.state["epochs"] = epoch + 1
      for key in STATE_KEYS:
        self.state["history"][key].append(float(logs.get(key, np.nan)))
      if self.budget_s and self.state["seconds"] > self.budget_s:
        self.state["stopped"] = f"time budget of {self.budget_s} s reached"
        self.model.stop_training = True
    runner.write_json(os.path.join(self.folder, CACHE[1]), self.state)


def _fresh_state():
  return {"epochs": 0, "seconds": 0.0, "stopped": None, "history": {k: [] for k in STATE_KEYS}}


def _resume(model, folder):
  """The state of the checkpoint in `folder`, its weights and optimizer loaded; None if none.

  Raises:
    ValueError: `(path, problem)` for a broken cache: unreadable JSON or weights, a state
      without its fields, one file without the other.
  """
  weights, state_path = (os.path.join(folder, f) for f in CACHE)
  if not os.path.exists(weights) and not os.path.exists(state_path):
    return None
  for path, other in ((weights, state_path), (state_path, weights)):
    if not os.path.exists(path):
      raise ValueError(path, f"missing beside {other}")
  try:
    with open(state_path) as f:
      state = json.load(f)
  except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
    raise ValueError(state_path, f"not readable JSON: {e}") from None
  if not (isinstance(state, dict) and isinstance(state.get("epochs"), int) and "seconds" in state
          and set(STATE_KEYS) <= set(state.get("history", {}))):
    raise ValueError(state_path, "not a state with epochs, seconds and history")
  try:
    model.optimizer.build(model.trainable_variables)
    model.load_weights(weights)
  except Exception as e:  # noqa: BLE001 -- h5py and Keras raise many kinds for a broken file
    raise ValueError(weights, f"{type(e).__name__}: {e}") from None
  return state


def _build(build, name, preset, validation):
  keras.utils.set_random_seed(0)
  model = build(name, preset)
  model(validation[:2])  # builds the weights
  return model


def train(build, name, preset, ctx, data=None):
  """Builds the named model and trains it for `preset["epochs"]`, resuming from `ctx.folder`.

  Args:
    build: `(name, preset) -> compiled model` (a `tfp_flows.models.vae.BernoulliVAE`).
    name: the model's name.
    preset: dict with `epochs`, `batch_size`, `steps_per_epoch` (None: a full
      pass over the 50,000 training images), `val_points`, optional `budget_s`.
    ctx: the task's `runner.TaskContext`.
    data: keyword arguments of `load_mnist` (`mnist_dir`, `data_dir`).

  Returns:
    `(model, state)`: the model with the weights of its last good epoch (its initial weights
    if no epoch finished) and the state dict (see the module docstring).
  """
  folder = ctx.folder
  validation = fixed_images(folder, "validation", preset["val_points"], data)
  model = _build(build, name, preset, validation)
  try:
    state = _resume(model, folder) or _fresh_state()
  except ValueError as e:
    runner.warn_cache(*e.args)
    for f in CACHE:
      if os.path.exists(os.path.join(folder, f)):
        os.remove(os.path.join(folder, f))
    model, state = _build(build, name, preset, validation), _fresh_state()
  steps = preset["steps_per_epoch"] or -(-50_000 // preset["batch_size"])
  if state["epochs"] < preset["epochs"] and not state["stopped"]:
    images = load_mnist(
      "train",
      "dynamic",
      batch_size=preset["batch_size"],
      shuffle=True,
      seed=1 + state["epochs"],
      **(data or {}),
      repeat=True,
    )
    model.fit(
      images,
      validation_data=(validation,),
      validation_batch_size=500,
      epochs=preset["epochs"],
      initial_epoch=state["epochs"],
      steps_per_epoch=steps,
      verbose=ctx.verbose,
      shuffle=False,
      callbacks=[*ctx.callbacks(backup=False),
                 EpochCheckpoint(folder, state, ctx, preset.get("budget_s"))],
    )
  state["iterations"] = state["epochs"] * steps
  return model, state


def evaluate(model, preset, folder, data=None):
  """Test-split numbers of a trained model; per-image values and figure arrays saved in `folder`.

  Args:
    model: a trained `BernoulliVAE`.
    preset: dict with `eval_points`, `iw_points` (<= eval_points), `iw_samples`, `iw_chunk`.
    folder: the task's folder (`eval.npz`, `images.npz`, the cached test images).
    data: keyword arguments of `load_mnist` (`mnist_dir`, `data_dir`).

  Returns:
    dict: `elbo` (mean one-sample ELBO over `eval_points` images) and
    `log_likelihood` (mean importance-weighted log p(x), k = `iw_samples`, on
    the first `iw_points` images) with their standard errors, `gap` (mean of
    log p(x) - ELBO on the same `iw_points` images), `bits_per_dim` of
    -log p(x), the counts, `eval_seconds`. Nats.
  """
  x = fixed_images(folder, "test", preset["eval_points"], data)
  start = time.time()
  elbo = model.elbo(x)
  log_p = model.log_likelihood(
    x[: preset["iw_points"]], num_samples=preset["iw_samples"], chunk_size=preset["iw_chunk"]
  )
  seconds = time.time() - start
  np.savez(os.path.join(folder, "eval.npz"), elbo=elbo, log_likelihood=log_p)
  np.savez(
    os.path.join(folder, "images.npz"),
    reconstructions=np.asarray(model.reconstruct(x[:10], seed=EVAL_SEED)),
    samples=np.asarray(model.sample(64, seed=EVAL_SEED)),
  )
  se = lambda v: float(v.std() / np.sqrt(len(v)))
  return {
    "elbo": float(elbo.mean()),
    "elbo_se": se(elbo),
    "log_likelihood": float(log_p.mean()),
    "log_likelihood_se": se(log_p),
    "gap": float(np.mean(log_p - elbo[: len(log_p)])),
    "bits_per_dim": float(bits_per_dim(float(log_p.mean()), NUM_DIMS)),
    "eval_points": len(elbo),
    "iw_points": len(log_p),
    "iw_samples": preset["iw_samples"],
    "eval_seconds": seconds,
  }


def run_model(build, models, key, config, ctx):
  """The task of one model: train (resuming), evaluate, return its results entry.

  Args:
    build: `(name, preset) -> compiled model`.
    models: the study's dict name -> constructor keyword arguments (copied into the entry).
    key: the model's name.
    config: the run config of `configure`.
    ctx: the task's `runner.TaskContext`.

  Returns:
    The model's constructor arguments, `epochs`, `iterations`, `train_seconds`, `stopped`
    (None or why training stopped early), `nonfinite` (the stop, if a non-finite loss) and
    `evaluate`'s numbers.
  """
  model, state = train(build, key, config, ctx, data_options(config))
  stopped = state["stopped"]
  entry = dict(models[key], epochs=state["epochs"], iterations=state["iterations"],
               train_seconds=state["seconds"], stopped=stopped,
               nonfinite=stopped if str(stopped).startswith("non-finite") else None)
  entry.update(evaluate(model, config, ctx.folder, data_options(config)))
  return entry
