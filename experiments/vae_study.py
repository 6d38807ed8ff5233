"""What the binarized-MNIST VAE studies (`iaf-mnist`, `planar-mnist`) share: train, evaluate, run.

A study names its models (name -> constructor keyword arguments) and its
presets; `run_study` trains every requested model not yet in
`results.json`, one at a time, resumably:

* `out/<name>/` holds `model.weights.h5` (weights and optimizer state) of the last
  finished epoch whose loss and weights were finite, and `state.json`
  (epochs done, per-epoch `loss` / `elbo` / `kl` / `val_elbo` in nats, wall
  seconds of training so far, and why training stopped early, if it did). A
  rerun loads them and continues `model.fit` at `initial_epoch`; the
  optimizer's state (Adamax moments and the update count that drives the KL
  warm-up) is restored too.
* Training: `model.fit` on `load_mnist("train")` (dynamic binarization: a
  fresh Bernoulli(pixel / 255) draw every time an image is used, shuffled),
  validated each epoch on the first `val_points` images of the validation
  split; `keras.callbacks.TerminateOnNaN` stops a model whose loss turns
  NaN/inf, its last good checkpoint is reloaded and evaluated, the stop is
  recorded, and the study goes on with the next model.
* Evaluation on the test split, dynamically binarized once with the fixed
  seed `EVAL_SEED` and cached in `out/test_images.npy`, so every model (and
  every rerun) sees the same binary images: the mean one-sample ELBO over
  `eval_points` images, the importance-weighted log p(x) (Burda et al. 2016)
  with k = `iw_samples` on the first `iw_points` of them, their gap and the
  bits/dim of -log p(x) (784 dimensions). All in nats.

`experiments.vae_report` writes `results.md` and the figures (the study's `report`).
"""

import json
import os
import time

import keras
import numpy as np

from experiments import results as results_file
from tfp_flows.datasets.mnist import load_mnist
from tfp_flows.metrics import bits_per_dim

EVAL_SEED = 2016  # dynamic binarization of the test images (and of fixed training images)
NUM_DIMS = 28 * 28
STATE_KEYS = ("loss", "elbo", "kl", "val_elbo")


def add_arguments(parser, models):
  """The options both studies share, beside `--preset` and `--out`."""
  parser.add_argument(
    "--models",
    nargs="+",
    default=None,
    choices=sorted(models),
    help="subset of the models (default: the preset's)",
  )
  parser.add_argument("--epochs", type=int, default=None, help="override the preset's epochs")
  parser.add_argument(
    "--mnist-dir", default=None, help="folder of the MNIST IDX files (default: tfp_flows' default)"
  )
  parser.add_argument("--data-dir", default=None, help="tfds data folder (default: tfds')")
  parser.add_argument("--verbose", type=int, default=0, help="Keras fit verbosity")


def data_options(args):
  """The `load_mnist` keyword arguments given on the command line (`--mnist-dir`, `--data-dir`)."""
  return dict(mnist_dir=args.mnist_dir, data_dir=args.data_dir)


def fixed_images(out, split, count, data=None, seed=EVAL_SEED):
  """The first `count` images of `split`, binarized once with `seed`; cached in `out`.

  Returns:
    `[count, 28, 28, 1]` float32 NumPy array in {0, 1}; the same array on every call
    (read back from `out/<split>_images.npy` after the first).
  """
  path = os.path.join(out, f"{split}_images.npy")
  if os.path.exists(path):
    images = np.load(path)
    if len(images) >= count:
      return images[:count]
  dataset = load_mnist(split, "dynamic", batch_size=count, seed=seed, **(data or {}))
  images = next(iter(dataset)).numpy()
  os.makedirs(out, exist_ok=True)
  np.save(path, images)
  return images


def _finite(model):
  return all(np.isfinite(w).all() for w in model.get_weights())


class EpochCheckpoint(keras.callbacks.Callback):
  """Keeps the last epoch with a finite loss and finite weights, and the state of the run.

  After each such epoch: weights and optimizer variables (`model.weights.h5`)
  are written to a temporary file and moved into place, then `state.json`; an
  interrupted run therefore resumes from a consistent epoch. An epoch with a non-finite loss is not saved and marks the state
  `stopped`. A `budget_s` stops training at the end of the epoch that passes
  it (wall seconds of training, summed over reruns).

  Args:
    folder: the model's folder.
    state: the dict kept in `state.json` (updated in place).
    budget_s: optional wall-clock budget of the model's training, seconds.
  """

  def __init__(self, folder, state, budget_s=None):
    super().__init__()
    self.folder, self.state, self.budget_s = folder, state, budget_s

  def on_epoch_begin(self, epoch, logs=None):
    self.start = time.time()

  def on_epoch_end(self, epoch, logs=None):
    logs = logs or {}
    self.state["seconds"] += time.time() - self.start
    if not (np.isfinite(logs.get("loss", np.nan)) and _finite(self.model)):
      self.state["stopped"] = f"non-finite loss in epoch {epoch + 1}"
      self.model.stop_training = True
    else:
      self.model.save_weights(os.path.join(self.folder, "tmp.weights.h5"))
      os.replace(
        os.path.join(self.folder, "tmp.weights.h5"), os.path.join(self.folder, "model.weights.h5")
      )
      self.state["epochs"] = epoch + 1
      for key in STATE_KEYS:
        self.state["history"][key].append(float(logs.get(key, np.nan)))
      if self.budget_s and self.state["seconds"] > self.budget_s:
        self.state["stopped"] = f"time budget of {self.budget_s} s reached"
        self.model.stop_training = True
    results_file.write_json(os.path.join(self.folder, "state.json"), self.state)


def _load(model, folder, optimizer):
  """Loads the checkpoint in `folder`, if any (with the optimizer's variables if asked: Keras'
  weights file holds them when the optimizer is built before loading)."""
  path = os.path.join(folder, "model.weights.h5")
  if not os.path.exists(path):
    return False
  if optimizer:
    model.optimizer.build(model.trainable_variables)
  model.load_weights(path)
  return True


def train(model, name, preset, out, data=None, verbose=0):
  """Trains a compiled `model` for `preset["epochs"]`, resuming from `out/<name>/`.

  Args:
    model: a compiled `tfp_flows.models.vae.BernoulliVAE`.
    name: the model's name (its folder).
    preset: dict with `epochs`, `batch_size`, `steps_per_epoch` (None: a full
      pass over the 50,000 training images), `val_points`, optional `budget_s`.
    out: the study's folder.
    data: keyword arguments of `load_mnist` (`mnist_dir`, `data_dir`).
    verbose: Keras fit verbosity.

  Returns:
    The state dict (see the module docstring); the model holds the weights of
    its last good epoch (its initial weights if no epoch finished).
  """
  folder = os.path.join(out, name)
  os.makedirs(folder, exist_ok=True)
  state_path = os.path.join(folder, "state.json")
  state = {"epochs": 0, "seconds": 0.0, "stopped": None, "history": {k: [] for k in STATE_KEYS}}
  validation = fixed_images(out, "validation", preset["val_points"], data)
  model(validation[:2])  # builds the weights
  initial = model.get_weights()
  if _load(model, folder, optimizer=True) and os.path.exists(state_path):
    with open(state_path) as f:
      state = json.load(f)
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
      verbose=verbose,
      callbacks=[
        keras.callbacks.TerminateOnNaN(),
        EpochCheckpoint(folder, state, preset.get("budget_s")),
      ],
    )
  diverged = str(state["stopped"]).startswith("non-finite") or not _finite(model)
  if diverged and not _load(model, folder, optimizer=False):  # back to the last good epoch;
    model.set_weights(initial)  # none finished: the initial weights
  state["iterations"] = state["epochs"] * steps
  return state


def evaluate(model, name, preset, out, data=None):
  """Test-split numbers of a trained model; per-image values and figure arrays saved in `out/<name>/`.

  Args:
    model: a trained `BernoulliVAE`.
    name: the model's name.
    preset: dict with `eval_points`, `iw_points` (<= eval_points), `iw_samples`, `iw_chunk`.
    out: the study's folder.
    data: keyword arguments of `load_mnist` (`mnist_dir`, `data_dir`).

  Returns:
    dict: `elbo` (mean one-sample ELBO over `eval_points` images) and
    `log_likelihood` (mean importance-weighted log p(x), k = `iw_samples`, on
    the first `iw_points` images) with their standard errors, `gap` (mean of
    log p(x) - ELBO on the same `iw_points` images), `bits_per_dim` of
    -log p(x), the counts, `eval_seconds`. Nats.

  Raises:
    ValueError: if `iw_points` > `eval_points`.
  """
  if preset["iw_points"] > preset["eval_points"]:
    raise ValueError(
      f"iw_points ({preset['iw_points']}) must be <= eval_points ({preset['eval_points']})."
    )
  x = fixed_images(out, "test", preset["eval_points"], data)
  start = time.time()
  elbo = model.elbo(x)
  log_p = model.log_likelihood(
    x[: preset["iw_points"]], num_samples=preset["iw_samples"], chunk_size=preset["iw_chunk"]
  )
  seconds = time.time() - start
  folder = os.path.join(out, name)
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


def run_study(args, study, presets, models, build, report, extra=None):
  """`tfp-flows reproduce <study>`: trains and evaluates each model not yet in `results.json`.

  Args:
    args: parsed options (`preset`, `out`, `models`, `epochs`, `mnist_dir`, `data_dir`,
      `verbose`).
    study: the study's name in `results.json`.
    presets: the study's presets (each with `models` and the keys `train` and
      `evaluate` read).
    models: dict name -> keyword arguments of the study's model class.
    build: `(name, preset) -> compiled model`.
    report: `out -> None`, the study's report (run at the end).
    extra: optional `(preset, results) -> None` run after the models (e.g. the
      2-D latent study), which may add to `results` and the folder.

  Raises:
    ValueError: for an unknown preset or model, a non-positive `--epochs`, or an
      `--out` holding another study's or another preset's results.
  """
  preset = dict(results_file.check_preset(args.preset, presets))
  if args.epochs is not None:
    if args.epochs < 1:
      raise ValueError(f"--epochs must be >= 1, got {args.epochs}.")
    preset["epochs"] = args.epochs
  names = args.models or preset["models"]
  unknown = [n for n in names if n not in models]
  if unknown:
    raise ValueError(f"unknown models {unknown}: expected names from {sorted(models)}.")
  results = results_file.load(args.out, study)
  if results.get("preset", args.preset) != args.preset:
    raise ValueError(
      f"{args.out} holds results of preset {results['preset']!r}; use another "
      f"--out for preset {args.preset!r}."
    )
  results.update(
    preset=args.preset,
    settings={k: v for k, v in preset.items() if k != "models"},
    eval_seed=EVAL_SEED,
  )
  for name in names:
    if name in results["runs"]:
      continue
    print(f"[{study}] {name}: training {preset['epochs']} epochs", flush=True)
    keras.utils.set_random_seed(0)
    model = build(name, preset)
    state = train(model, name, preset, args.out, data_options(args), args.verbose)
    entry = dict(
      models[name],
      epochs=state["epochs"],
      iterations=state["iterations"],
      train_seconds=state["seconds"],
      stopped=state["stopped"],
    )
    entry.update(evaluate(model, name, preset, args.out, data_options(args)))
    results["runs"][name] = entry
    results_file.save(args.out, results)
    print(
      f"[{study}] {name}: ELBO {entry['elbo']:.2f}, log p(x) {entry['log_likelihood']:.2f} "
      f"nats (k={entry['iw_samples']}), {entry['epochs']} epochs, "
      f"{entry['train_seconds']:.0f} s"
      + (f"; stopped: {state['stopped']}" if state["stopped"] else ""),
      flush=True,
    )
  if extra is not None:
    extra(preset, results)
    results_file.save(args.out, results)
  report(args.out)
