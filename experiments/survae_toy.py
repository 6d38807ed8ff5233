"""SurVAE Flows toy experiments (Nielsen et al. 2020, Sec. 5.1, Fig. 4-5): Abs, Augment, Slice, Max on 2-D data.

Abs study: a baseline flow, (affine coupling with an MLP of five hidden layers
of 64, Householder orthonormal mixing) x 10 on N(0, I_2), against the same
flow under an Abs surjection (x -> |x| -> softplus^-1 -> flow -> N(0, I)) with
the sign probability q fixed at 1/2 or learned, on data symmetric about both
axes; on skewed data (P(x_1 > 0) = 0.75) the learned q is reported; on offset
data Abs is placed first or in the middle (after 5 of the 10 steps).
Augment study: (coupling, orthonormal) x 3 + coupling on 2-D against the
same on 4-D after Augment 2 -> 4 with q(e | x) = N(0, I_2) (Sec. 5.1 "Augment").
Degenerate circle study (noise-free circle of radius 4): 20 baseline steps, against a
bottleneck (10 steps, Slice 2 -> 1, Augment 1 -> 2, 10 steps) and 20 steps under Max 2 -> 1.
Labelled study: the Abs study's models conditioned on the one-hot component label.
A study of `experiments.runner`: one task `<model>/<dataset>` per pair, each depending on a task
`data/<dataset>` that prepares the tfds dataset once (so parallel workers never build it twice);
density grids and samples go to the task's folder.
Models: `experiments.survae_models`; tables and figures: `experiments.survae_report`.
Training: `model.fit` on -mean log_prob (the one-sample bound for Augment and the bottleneck),
Adam with the gradient's global norm clipped; a non-finite loss stops the fit at the last finite
weights (the runner's `FiniteGuard`, checked every `steps_per_execution` steps). Evaluation on the 10,000-point test split: mean
exact log-likelihood for exact models, the importance-weighted estimate (`log_likelihood`, k
samples) on the first `iw_points` test points for bound models; nats per example.
"""

import json
import os
import time

import keras
import numpy as np
import tensorflow as tf

from experiments import runner
from experiments.survae_models import ToyModel, marginal_log_prob, one_hot
from experiments.survae_report import box, report
from tfp_flows.datasets.toy2d import NUM_LABELS, load_toy2d
from tfp_flows.metrics.likelihood import elbo, log_likelihood
from tfp_flows.surjections import is_exact

ABS_DATA = ("ngon", "corners", "circles", "checkerboard")
AUG_DATA = ("two_moons", "double_spiral", "checkerboard", "circles", "split_line")
COMMON = {
  "batch_size": 128,
  "learning_rate": 2e-3,
  "clipnorm": 2.0,
  "num_steps": 10,
  "hidden": (64,) * 5,
  "iw_points": 1000,
  "grid": 160,  # density figures: grid x grid points
}
PRESETS = {
  "quick": dict(
    COMMON,
    iterations=200,
    iw_samples=100,
    abs_data=ABS_DATA[:1],
    abs_models=("flow", "abs_learned"),
    skewed_models=("abs_learned",),
    offset_models=(),
    aug_data=AUG_DATA[:1],
    circle_models=("max",),
    labelled_data=ABS_DATA[:1],
    labelled_models=("abs_learned_cond",),
  ),
  "paper": dict(
    COMMON,
    iterations=1200,
    iw_samples=1000,
    abs_data=ABS_DATA,
    abs_models=("flow", "abs_fixed", "abs_learned"),
    skewed_models=("abs_learned",),
    offset_models=("abs_learned", "abs_middle"),
    aug_data=AUG_DATA,
    circle_models=("flow20", "bottleneck", "max"),
    labelled_data=ABS_DATA,
    labelled_models=("flow_cond", "abs_fixed_cond", "abs_learned_cond"),
  ),
}
RADIUS = 4.0  # of the `circle` dataset


def runs(preset):
  """The (model, dataset) pairs of a preset: Abs, Augment, circle, then labelled study."""
  pairs = [(m, d) for d in preset["abs_data"] for m in preset["abs_models"]]
  pairs += [(m, "skewed") for m in preset["skewed_models"]]
  pairs += [(m, "offset") for m in preset["offset_models"]]
  pairs += [(m, d) for d in preset["aug_data"] for m in ("flow_small", "augment")]
  pairs += [(m, "circle") for m in preset["circle_models"]]
  return pairs + [(m, d) for d in preset["labelled_data"] for m in preset["labelled_models"]]


def negative_mean(_, log_p):
  """Training loss: -mean log_prob (nats)."""
  return -tf.reduce_mean(log_p)


def density_grid(log_density, extent, num=160):
  """exp(log_density) on the `num x num` cell centres of [-extent, extent]^2 (rows: x2, cols: x1)."""
  t = (np.arange(num) + 0.5) / num * 2 * extent - extent
  grid = np.stack(np.meshgrid(t, t), -1).reshape(-1, 2).astype("float32")
  return np.exp(np.asarray(log_density(grid))).reshape(num, num)


class Trainer:
  """One compiled `ToyModel` per model kind, reset to the same initial weights for each dataset.

  Keras keeps the traced training step of a compiled model, so re-using the
  model (weights and Adam state reset) spares the per-run tracing, which on
  a 2-core CPU costs about as much as the training itself.

  Args:
    kind: a name in `survae_models.MODELS`.
    preset: a `PRESETS` entry.
    seed: seed of the initial weights.
  """

  def __init__(self, kind, preset, seed=0):
    keras.utils.set_random_seed(seed)
    self.model, self.preset = ToyModel(kind, preset["num_steps"], preset["hidden"]), preset
    self.per_epoch = max(1, preset["iterations"] // 10)
    optimizer = keras.optimizers.Adam(preset["learning_rate"], global_clipnorm=preset["clipnorm"])
    self.model.compile(
      optimizer=optimizer, loss=negative_mean, steps_per_execution=min(50, self.per_epoch)
    )
    self.initial = self.model.get_weights()

  def fit(self, inputs, x, seed=0, callbacks=(), verbose=0):
    """Trains on (inputs, x) from the initial weights and a fresh Adam state; returns the history.

    `callbacks` go to `fit` (the runner's TensorBoard and `FiniteGuard`); `verbose`: its
    verbosity.
    """
    self.model.set_weights(self.initial)
    for var in self.model.optimizer.variables:  # step count and moments; keep the rate
      if not var.path.endswith("learning_rate"):
        var.assign(tf.zeros_like(var))
    data = (
      tf.data.Dataset.from_tensor_slices((inputs, x))
      .shuffle(len(x), seed=seed)
      .repeat()
      .batch(self.preset["batch_size"])
    )
    return self.model.fit(
      data, epochs=10, steps_per_epoch=self.per_epoch, verbose=verbose, shuffle=False,
      callbacks=list(callbacks)
    )


def evaluate(dist, test, preset):
  """Test log-likelihood fields of a results entry (exact, or IW on the first `iw_points`)."""
  exact, subset = is_exact(dist), test[: preset["iw_points"]]
  if exact:
    log_p = dist.log_prob(test).numpy()
    return {
      "test_log_likelihood": float(np.mean(log_p)),
      "exact": True,
      "test_points": len(test),
      "subset_log_likelihood": float(np.mean(log_p[: len(subset)])),
      "subset_points": len(subset),
      "iw_samples": None,
    }
  subset_ll = float(
    np.mean(log_likelihood(dist, subset, preset["iw_samples"], chunk_size=50).numpy())
  )
  return {
    "test_log_likelihood": subset_ll,
    "exact": False,
    "test_points": len(subset),
    "subset_log_likelihood": subset_ll,
    "subset_points": len(subset),
    "iw_samples": preset["iw_samples"],
    "subset_elbo": float(np.mean(elbo(dist, subset))),
  }


def train_one(trainer, dataset, data_dir=None, seed=0, ctx=None):
  """Trains and evaluates `trainer`'s model on one dataset.

  `ctx`: the runner's `TaskContext` (its callbacks and verbosity; the guard checks after every
  `steps_per_execution` steps); None: no callbacks.

  Returns:
    `(entry, arrays)`: the results entry and the arrays for the figures (`density` on the
    grid of `density_grid`; for the circle also 2,000 model `samples`).
  """
  model, preset = trainer.model, trainer.preset
  train, train_labels = load_toy2d(dataset, "train", data_dir, labels=True)
  test, test_labels = load_toy2d(dataset, "test", data_dir, labels=True)
  start = time.time()
  callbacks = ctx.callbacks(snapshot="batch") if ctx else []
  history = trainer.fit((train, one_hot(train_labels)) if model.conditional else train, train,
                        seed, callbacks, ctx.verbose if ctx else 0)
  seconds = time.time() - start
  dist = model.distribution(one_hot(test_labels) if model.conditional else None)
  entry = dict(
    model=model.kind,
    dataset=dataset,
    **evaluate(dist, test, preset),
    train_loss_per_epoch=[float(v) for v in history.history["loss"]],
    params=int(sum(np.prod(v.shape) for v in model.trainable_variables)),
    stopped_at_iteration=next((c.stopped_at for c in callbacks if hasattr(c, "stopped_at")), None),
    seconds=seconds,
  )
  if model.conditional:
    prior = np.bincount(train_labels, minlength=NUM_LABELS[dataset]) / len(train_labels)
    entry["marginal_test_log_likelihood"] = float(np.mean(marginal_log_prob(model, test, prior)))
    entry["label_entropy"] = float(-np.sum(prior[prior > 0] * np.log(prior[prior > 0])))
    log_density = lambda x: marginal_log_prob(model, x, prior)
  else:
    log_density = lambda x: log_likelihood(dist, x, num_samples=20, chunk_size=5)
  if model.abs is not None:
    entry["q"] = model.q(NUM_LABELS[dataset]).tolist()
  arrays = {"density": density_grid(log_density, box(dataset), preset["grid"])}
  if dataset == "circle":
    samples = dist.sample(10_000, seed=seed + 1).numpy()
    entry["sample_radius_error"] = float(np.mean(np.abs(np.linalg.norm(samples, axis=1) - RADIUS)))
    arrays["samples"] = samples[:2000]
  return entry, arrays


def add_arguments(parser):
  """Options beside the runner's (`--preset` quick | paper, `--out`, ...)."""
  runner.add_count(parser, "--iterations", "override the preset (>= 1)")
  parser.add_argument("--data-dir", default=None, help="tfds data directory")
  runner.add_seed(parser, "seed of weights and shuffling, 0 .. 2**32-1")


def configure(args, preset):
  """The run config: the preset with `--iterations`, `seed` and `data_dir`.

  Raises:
    ValueError: naming the option, for `--iterations` < 1 or a seed outside 0 .. 2**32 - 1.
  """
  runner.override_count(preset, args, "--iterations")
  return dict(preset, seed=runner.seed("--seed", args.seed), data_dir=args.data_dir)


def tasks(config):
  """`data/<dataset>` for each dataset, then `<model>/<dataset>` per pair of `runs(config)`."""
  pairs = runs(config)
  return [f"data/{d}" for d in dict.fromkeys(d for _, d in pairs)] + [f"{m}/{d}" for m, d in pairs]


def depends(key, config):
  """A model task needs its dataset prepared."""
  return [] if key.startswith("data/") else [f"data/{key.split('/')[1]}"]


_TRAINERS = {}  # one compiled model per process and (kind, config): tracing costs as training


def run_task(key, config, ctx):
  """`data/<dataset>`: prepares the tfds dataset; `<model>/<dataset>`: trains and evaluates."""
  kind, dataset = key.split("/")
  if kind == "data":
    train = load_toy2d(dataset, "train", config["data_dir"])
    return dict(dataset=dataset, train_points=len(train))
  cache = json.dumps([kind, config])
  if cache not in _TRAINERS:
    _TRAINERS[cache] = Trainer(kind, config, config["seed"])
  entry, arrays = train_one(_TRAINERS[cache], dataset, config["data_dir"], config["seed"], ctx)
  for name, array in arrays.items():
    np.save(os.path.join(ctx.folder, f"{name}.npy"), array.astype("float32"))
  return entry


STUDY = runner.Study("survae-toy", PRESETS, configure, tasks, run_task, report,
                     add_arguments=add_arguments, depends=depends)
