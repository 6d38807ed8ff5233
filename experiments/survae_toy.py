"""SurVAE Flows toy experiments (Nielsen et al. 2020, Sec. 5.1, Fig. 4-5): Abs and Augment on 2-D data.

Abs study: a baseline flow, (affine coupling with an MLP of five hidden layers
of 64, Householder orthonormal mixing) x 10 on N(0, I_2), against the same
flow under an Abs surjection (x -> |x| -> softplus^-1 -> flow -> N(0, I)) with
the sign probability q fixed at 1/2 or learned, on data symmetric about both
axes; on skewed data (P(x_1 > 0) = 0.75) the learned q is reported; on offset
data Abs is placed first or in the middle (after 5 of the 10 steps).
Augment study: (coupling, orthonormal) x 3 + coupling on 2-D against the
same on 4-D after Augment 2 -> 4 with q(e | x) = N(0, I_2) (Sec. 5.1 "Augment").
Training: `model.fit` on -mean log_prob (the one-sample bound for Augment),
Adam with the gradient's global norm clipped. Evaluation on the 10,000-point test split: mean exact log-likelihood for
exact models, the importance-weighted estimate (`log_likelihood`, k samples)
on the first `iw_points` test points for Augment (the Augment table compares
both models on those points); nats per example.
"""
import json
import os
import time

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from experiments import results as results_file
from tfp_flows import layers
from tfp_flows.datasets.toy2d import load_toy2d, toy2d
from tfp_flows.metrics.likelihood import elbo, log_likelihood
from tfp_flows.surjections import Abs, Augment, is_exact

tfd, tfb = tfp.distributions, tfp.bijectors
BOX = 4.0
ABS_DATA = ("ngon", "corners", "circles", "checkerboard")
AUG_DATA = ("two_moons", "double_spiral", "checkerboard", "circles", "split_line")
PRESETS = {
    "quick": dict(iterations=200, batch_size=128, learning_rate=2e-3, clipnorm=2.0,
                  iw_samples=100, iw_points=1000, abs_data=ABS_DATA[:1],
                  abs_models=("flow", "abs_learned"), skewed_models=("abs_learned",),
                  offset_models=(), aug_data=AUG_DATA[:1]),
    "paper": dict(iterations=1200, batch_size=128, learning_rate=2e-3, clipnorm=2.0,
                  iw_samples=1000, iw_points=1000, abs_data=ABS_DATA,
                  abs_models=("flow", "abs_fixed", "abs_learned"),
                  skewed_models=("abs_learned",), offset_models=("abs_learned", "abs_middle"),
                  aug_data=AUG_DATA),
}
MODELS = ("flow", "abs_fixed", "abs_learned", "abs_middle", "flow_small", "augment")


def runs(preset):
  """The (model, dataset) pairs of a preset, Abs study first."""
  pairs = [(m, d) for d in preset["abs_data"] for m in preset["abs_models"]]
  pairs += [(m, "skewed") for m in preset["skewed_models"]]
  pairs += [(m, "offset") for m in preset["offset_models"]]
  pairs += [(m, d) for d in preset["aug_data"] for m in ("flow_small", "augment")]
  return pairs


def steps(event_size, pairs, final_coupling=False, seed=0):
  """(AffineCoupling, Householder) x pairs [+ AffineCoupling]: layers, data side first."""
  hidden = (64,) * 5 if event_size == 2 and not final_coupling else (64, 64)
  out = []
  for i in range(pairs):
    out += [layers.AffineCoupling(event_size, num_masked=event_size // 2, hidden=hidden),
            layers.Householder(event_size, seed=seed + i)]
  if final_coupling:
    out.append(layers.AffineCoupling(event_size, num_masked=event_size // 2, hidden=hidden))
  return out


@keras.saving.register_keras_serializable(package="experiments")
class ToyModel(keras.Model):
  """One of `MODELS` as a Keras model; `call(x)` returns `log_prob(x)` `[batch]` (nats).

  Args:
    kind: a name in `MODELS`.
  """

  def __init__(self, kind, **kwargs):
    super().__init__(**kwargs)
    if kind not in MODELS:
      raise ValueError(f"unknown model {kind!r}; choose from {MODELS}.")
    self.kind = kind
    small = kind in ("flow_small", "augment")
    size = 4 if kind == "augment" else 2
    self.flow = steps(size, 3 if small else 10, final_coupling=small)
    self.abs = (Abs(2, learn_q=kind != "abs_fixed") if kind.startswith("abs") else None)
    self.augment = Augment(2, 2) if kind == "augment" else None
    self.built = True

  def distribution(self):
    """The model's `tfd.Distribution` over 2-D x."""
    base = tfd.Sample(tfd.Normal(0.0, 1.0), 4 if self.augment else 2)
    if self.augment is not None:
      return self.augment.distribution(
          tfd.TransformedDistribution(base, layers.chain(self.flow)))
    if self.abs is None:
      return tfd.TransformedDistribution(base, layers.chain(self.flow))
    split = 5 * 2 if self.kind == "abs_middle" else 0  # steps before the Abs layer
    upper = tfd.TransformedDistribution(
        base, tfb.Chain([tfb.Softplus(), layers.chain(self.flow[split:])]))
    dist = self.abs.distribution(upper)
    return tfd.TransformedDistribution(dist, layers.chain(self.flow[:split])) if split else dist

  def call(self, x):
    return self.distribution().log_prob(x)


def negative_mean(_, log_p):
  """Training loss: -mean log_prob (nats)."""
  return -tf.reduce_mean(log_p)


def density_grid(dist, num=160):
  """exp(log_prob) on the `num x num` cell centres of [-4, 4]^2 (rows: x2, cols: x1)."""
  t = (np.arange(num) + 0.5) / num * 2 * BOX - BOX
  grid = np.stack(np.meshgrid(t, t), -1).reshape(-1, 2).astype("float32")
  log_p = log_likelihood(dist, grid, num_samples=20, chunk_size=5)  # exact: one log_prob
  return np.exp(log_p.numpy()).reshape(num, num)


class Trainer:
  """One compiled `ToyModel` per model kind, reset to the same initial weights for each dataset.

  Keras keeps the traced training step of a compiled model, so re-using the
  model (weights and Adam state reset) spares the per-run tracing, which on
  a 2-core CPU costs about as much as the training itself.

  Args:
    kind: a name in `MODELS`.
    preset: a `PRESETS` entry.
    seed: seed of the initial weights.
  """

  def __init__(self, kind, preset, seed=0):
    keras.utils.set_random_seed(seed)
    self.model, self.preset = ToyModel(kind), preset
    self.per_epoch = max(1, preset["iterations"] // 10)
    optimizer = keras.optimizers.Adam(preset["learning_rate"], global_clipnorm=preset["clipnorm"])
    self.model.compile(optimizer=optimizer,
                       loss=negative_mean, steps_per_execution=min(50, self.per_epoch))
    self.initial = self.model.get_weights()

  def fit(self, train, seed=0):
    """Trains from the initial weights and a fresh Adam state; returns the Keras history."""
    self.model.set_weights(self.initial)
    for var in self.model.optimizer.variables:  # step count and moments; keep the rate
      if not var.path.endswith("learning_rate"):
        var.assign(tf.zeros_like(var))
    data = tf.data.Dataset.from_tensor_slices((train, train)).shuffle(
        len(train), seed=seed).repeat().batch(self.preset["batch_size"])
    return self.model.fit(data, epochs=10, steps_per_epoch=self.per_epoch, verbose=0)


def train_one(trainer, dataset, data_dir=None, seed=0):
  """Trains and evaluates `trainer`'s model on one dataset; returns its results entry and density grid."""
  train = load_toy2d(dataset, "train", data_dir)
  test = load_toy2d(dataset, "test", data_dir)
  model, preset = trainer.model, trainer.preset
  start = time.time()
  history = trainer.fit(train, seed)
  seconds = time.time() - start
  dist = model.distribution()
  exact = is_exact(dist)
  subset = test[:preset["iw_points"]]
  if exact:
    log_p = dist.log_prob(test).numpy()
    test_ll, subset_ll = float(np.mean(log_p)), float(np.mean(log_p[:len(subset)]))
  else:
    subset_ll = float(np.mean(log_likelihood(dist, subset, preset["iw_samples"],
                                             chunk_size=50).numpy()))
    test_ll, one_sample = subset_ll, float(np.mean(elbo(dist, subset).numpy()))
  entry = dict(model=model.kind, dataset=dataset, test_log_likelihood=test_ll, exact=exact,
               test_points=len(test) if exact else len(subset),
               subset_log_likelihood=subset_ll, subset_points=len(subset),
               iw_samples=None if exact else preset["iw_samples"],
               train_loss_per_epoch=[float(v) for v in history.history["loss"]],
               params=int(sum(np.prod(v.shape) for v in model.trainable_variables)),
               seconds=seconds)
  if not exact:
    entry["subset_elbo"] = one_sample
  if model.abs is not None:
    entry["q"] = [float(v) for v in tf.sigmoid(model.abs.logits).numpy()]
  return entry, density_grid(dist)


def add_arguments(parser):
  """Options beside `--preset` (quick | paper) and `--out`."""
  parser.add_argument("--iterations", type=int, default=None, help="override the preset")
  parser.add_argument("--data-dir", default=None, help="tfds data directory")
  parser.add_argument("--seed", type=int, default=0)


def run(args):
  """Trains every (model, dataset) of the preset not yet in `args.out/results.json`; writes the report.

  Raises:
    ValueError: for an unknown preset.
  """
  preset, results = results_file.start(args, PRESETS, "survae-toy")
  os.makedirs(os.path.join(args.out, "densities"), exist_ok=True)
  trainers = {}
  for kind, dataset in runs(preset):
    key = f"{kind}/{dataset}"
    if key in results["runs"]:
      continue
    if kind not in trainers:
      trainers[kind] = Trainer(kind, preset, args.seed)
    entry, density = train_one(trainers[kind], dataset, args.data_dir, args.seed)
    print(f"{key}: test log-likelihood {entry['test_log_likelihood']:.3f} nats "
          f"({'exact' if entry['exact'] else 'IW bound'}), {entry['seconds']:.0f} s", flush=True)
    np.save(os.path.join(args.out, "densities", f"{kind}_{dataset}.npy"),
            density.astype("float32"))
    results["runs"][key] = entry
    results_file.save(args.out, results)
  report(args.out)


def _table(runs_, models, datasets, title, field="test_log_likelihood"):
  lines = [f"## {title}", "", "| dataset | " + " | ".join(models) + " |",
           "|---" * (1 + len(models)) + "|"]
  for d in datasets:
    cells = []
    for m in models:
      r = runs_.get(f"{m}/{d}")
      cells.append("-" if r is None or field not in r else f"{r[field]:.3f}"
                   + ("" if r["exact"] else " (IW)"))
    lines.append(f"| {d} | " + " | ".join(cells) + " |")
  return lines + [""]


def report(out):
  """Writes `results.md` (test log-likelihoods, learned q) and `abs.png`, `augment.png` (densities)."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  results = results_file.load(out, "survae-toy")
  r = results["runs"]
  sets = lambda models: [d for d in dict.fromkeys(v["dataset"] for v in r.values())
                         if any(f"{m}/{d}" in r for m in models)]
  abs_models, aug_models = ["flow", "abs_fixed", "abs_learned", "abs_middle"], ["flow_small",
                                                                                "augment"]
  lines = [f"# SurVAE toy study ({results['preset']} preset)", "",
           f"Settings: {json.dumps(results['settings'])}", "",
           "Mean test log-likelihood, nats per example (higher is better). Exact for flows and "
           "Abs models (10,000 test points); '(IW)' = importance-weighted estimate with "
           f"k = {results['settings']['iw_samples']} on {results['settings']['iw_points']} "
           "test points (a stochastic lower bound).", ""]
  lines += _table(r, abs_models, [d for d in sets(abs_models)], "Abs study")
  lines += ["Learned sign probabilities q = P(x_d > 0):", ""]
  lines += [f"- {k}: q = ({v['q'][0]:.3f}, {v['q'][1]:.3f})" for k, v in r.items()
            if v["model"] in ("abs_learned", "abs_middle")]
  lines += [""] + _table(r, aug_models, sets(aug_models), "Augment study (first "
                         f"{results['settings']['iw_points']} test points for both models)",
                         field="subset_log_likelihood")
  lines += ["One-sample bound (ELBO) of the augmented model on the same points: "
            + ", ".join(f"{v['dataset']} {v['subset_elbo']:.3f}" for v in r.values()
                        if "subset_elbo" in v) + ".", ""]
  secs = sum(v["seconds"] for v in r.values())
  lines += [f"Total time in `fit`: {secs:.0f} s over {len(r)} runs (the first run of each model "
            "includes tracing its training step)."]
  with open(os.path.join(out, "results.md"), "w") as f:
    f.write("\n".join(lines) + "\n")
  for name, models in (("abs", abs_models), ("augment", aug_models)):
    datasets = sets(models)
    if not datasets:
      continue
    fig, axes = plt.subplots(len(datasets), 1 + len(models), squeeze=False,
                             figsize=(1.6 * (1 + len(models)), 1.6 * len(datasets)))
    for i, d in enumerate(datasets):
      x = toy2d(d, seed=1)  # the test split, without needing the tfds directory
      axes[i, 0].hist2d(x[:, 0], x[:, 1], bins=100, range=[[-BOX, BOX]] * 2)
      axes[i, 0].set_ylabel(d, fontsize=7)
      for j, m in enumerate(models):
        file = os.path.join(out, "densities", f"{m}_{d}.npy")
        if os.path.exists(file):
          axes[i, j + 1].imshow(np.load(file), origin="lower", extent=(-BOX, BOX) * 2)
    for j, title in enumerate(["data"] + models):
      axes[0, j].set_title(title, fontsize=8)
    for ax in axes.flat:
      ax.set_xticks([])
      ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(os.path.join(out, f"{name}.png"), dpi=80)
    plt.close(fig)
