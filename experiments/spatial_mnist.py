"""SpatialMNIST study (SurVAE Flows, Nielsen et al. 2020, Sec. 5.3, Table 3): PermuteFlow, SortFlow, i.i.d.

Each task trains one model on the `spatial_mnist` train split with `model.fit` (Adam, batches of
sets, a validation pass on part of the validation split every `steps_per_epoch` steps), then
reports the test log-likelihood in nats per point: exact for SortFlow and the i.i.d. baseline,
the importance-weighted estimate (`iw_samples` passes) for PermuteFlow, whose one-sample
`log_prob` is a bound (tight here: its inner density is exchangeable). Files per task:
`samples.npy` (25 sets), `history.json` and the trained weights `model.weights.h5` (load them
into `build_model(name, config)` to draw more sets). The report writes `results.md`, `samples.png` (5 x 5
sampled point clouds per model beside data) and `curves.png` (training curves).

Presets: quick (tiny, for the test suite), cpu (about 30 minutes on 2 idle cores), paper (the
sizes of the SurVAE reference code's SpatialMNIST scripts: 16 flows of transformer couplings of
width 64, 8 heads, 2 layers, feed-forward 4 x 64, batch 128, 100 epochs, for a GPU; our
couplings act on coordinates only, so 32 of them stand for its 16 x (coordinate-wise +
point-wise) pairs).
"""
import json
import math
import os
import time

import numpy as np

from experiments import runner

MODELS = ("permute_flow", "sort_flow", "iid")
PUBLISHED = {"permute_flow": -5.30, "sort_flow": -5.53}  # SurVAE Table 3, nats per point
OTHERS = {"Neural Statistician (Edwards & Storkey 2017)": -5.37,
          "BRUNO (Korshunova et al. 2018)": -5.68}
_TRANSFORMER = ("num_couplings", "width", "num_heads", "num_blocks", "mlp_ratio")
PRESETS = {
    "quick": dict(train_sets=64, val_sets=16, test_sets=16, batch_size=16, steps=8,
                  steps_per_epoch=4, learning_rate=1e-3, iw_samples=2,
                  transformer=dict(num_couplings=1, width=8, num_heads=2, num_blocks=1,
                                   mlp_ratio=2),
                  iid=dict(num_couplings=1, hidden=[8], num_bins=4)),
    "cpu": dict(train_sets=50_000, val_sets=1000, test_sets=10_000, batch_size=64, steps=4000,
                steps_per_epoch=250, learning_rate=1e-3, iw_samples=8,
                transformer=dict(num_couplings=4, width=32, num_heads=4, num_blocks=1,
                                 mlp_ratio=2),
                iid=dict(num_couplings=4, hidden=[64, 64], num_bins=8)),
    "paper": dict(train_sets=50_000, val_sets=10_000, test_sets=10_000, batch_size=128,
                  steps=39_100, steps_per_epoch=391, learning_rate=1e-3, iw_samples=100,
                  transformer=dict(num_couplings=32, width=64, num_heads=8, num_blocks=2,
                                   mlp_ratio=4),
                  iid=dict(num_couplings=8, hidden=[128, 128], num_bins=16)),
}


def add_arguments(parser):
  """Options beside the runner's: `--models`, `--steps`, `--num-couplings`, `--seed`,
  `--data-dir`, `--mnist-dir`."""
  runner.add_names(parser, "--models", f"subset of {MODELS}")
  runner.add_count(parser, "--steps", "training steps per model (>= 1)")
  runner.add_count(parser, "--num-couplings",
                   "Transformer couplings of PermuteFlow and SortFlow (>= 1; default: the preset's)")
  runner.add_seed(parser, "seed of weights and batches, 0 .. 2**32-1")
  parser.add_argument("--data-dir", default=None, help="tfds data_dir of spatial_mnist")
  parser.add_argument("--mnist-dir", default=None, help="MNIST IDX files (first build only)")


def configure(args, preset):
  """The run config: the preset with the options applied.

  Raises:
    ValueError: naming the option, for an unknown model, `--steps` or `--num-couplings` < 1 or
      a bad seed.
  """
  runner.override_count(preset, args, "--steps")
  preset["transformer"] = runner.override_count(dict(preset["transformer"]), args,
                                                "--num-couplings")
  preset["seed"] = runner.seed("--seed", args.seed)
  preset["models"] = runner.choices("--models", args.models or MODELS, MODELS)
  preset["data_dir"], preset["mnist_dir"] = args.data_dir, args.mnist_dir
  return preset


def tasks(config):
  """One task per model: `"model/permute_flow"`, ..."""
  return [f"model/{m}" for m in config["models"]]


def _data(config):
  """Train, validation and test point sets `[M, 50, 2]` (the first M of each split)."""
  from tfp_flows.datasets.spatial_mnist import load_spatial_mnist_numpy

  return [load_spatial_mnist_numpy(split, config["data_dir"], config["mnist_dir"])[0][:size]
          for split, size in (("train", config["train_sets"]), ("validation", config["val_sets"]),
                              ("test", config["test_sets"]))]


def build_model(name, config, set_size=50):
  """The model `name` at the config's sizes."""
  from tfp_flows import models

  if name == "iid":
    iid = config["iid"]
    return models.IIDSetFlow(set_size, num_couplings=iid["num_couplings"],
                             hidden=tuple(iid["hidden"]), num_bins=iid["num_bins"])
  sizes = {k: config["transformer"][k] for k in _TRANSFORMER}
  return (models.PermuteFlow if name == "permute_flow" else models.SortFlow)(set_size, **sizes)


def run_task(key, config, ctx):
  """Trains and evaluates one model; writes `samples.npy`, `history.json` and `model.weights.h5`."""
  import keras
  import tensorflow as tf

  name = key.split("/")[1]
  train, val, test = _data(config)
  keras.utils.set_random_seed(config["seed"])
  model = build_model(name, config, train.shape[1])
  model.compile(keras.optimizers.Adam(config["learning_rate"]))
  data = (tf.data.Dataset.from_tensor_slices(train).shuffle(len(train), seed=config["seed"])
          .repeat().batch(config["batch_size"], drop_remainder=True).prefetch(2))
  epochs = max(1, config["steps"] // config["steps_per_epoch"])
  start = time.time()
  history = model.fit(data, epochs=epochs, steps_per_epoch=config["steps_per_epoch"],
                      validation_data=(val,), validation_batch_size=500,
                      callbacks=ctx.callbacks(), verbose=ctx.verbose, shuffle=False)
  seconds = time.time() - start
  model.save_weights(os.path.join(ctx.folder, "model.weights.h5"))
  start = time.time()
  per_set = model.log_likelihood(test, num_samples=config["iw_samples"])
  per_point = per_set / train.shape[1]
  samples = model.sample(25, seed=(config["seed"], 1)).numpy()
  np.save(os.path.join(ctx.folder, "samples.npy"), samples)
  curves = {k: [float(v) for v in vals] for k, vals in history.history.items()}
  with open(os.path.join(ctx.folder, "history.json"), "w") as f:
    json.dump(curves, f)
  return dict(model=name, exact=bool(model.is_exact),
              likelihood="exact" if model.is_exact else f"bound, IW k={config['iw_samples']}",
              test_nats_per_point=float(per_point.mean()),
              test_se=float(per_point.std(ddof=1) / math.sqrt(len(per_point))),
              params=int(model.count_params()), train_seconds=seconds,
              eval_seconds=time.time() - start, steps=int(model.optimizer.iterations.numpy()),
              final_train_loss=curves["loss"][-1], final_val_loss=curves["val_loss"][-1],
              samples_finite=bool(np.all(np.isfinite(samples))))


def _scatter_grid(fig, spec, sets, title):
  """A 5 x 5 grid of point clouds in one cell of `spec`."""
  grid = spec.subgridspec(5, 5, wspace=0.05, hspace=0.05)
  for i, points in enumerate(sets[:25]):
    ax = fig.add_subplot(grid[i // 5, i % 5])
    ax.scatter(points[:, 0], points[:, 1], s=2, c="k")
    ax.set_xlim(0, 28)
    ax.set_ylim(0, 28)
    ax.set_xticks([])
    ax.set_yticks([])
    if i == 2:
      ax.set_title(title, fontsize=9)


def report(out, results):
  """Writes `results.md`, `samples.png` and `curves.png`; returns the markdown.

  Raises:
    ValueError: if `results` has no finished task or no config.
  """
  runs, config = runner.report_inputs(out, results, "spatial-mnist task")
  plt = runner.pyplot()
  names = [m for m in MODELS if f"model/{m}" in runs]
  lines = [f"# SpatialMNIST ({results['preset']} preset)", "",
           f"Settings: {json.dumps(config)}", "",
           "Test log-likelihood in nats per point (mean over test sets +- standard error); "
           "'exact' or a bound's importance-weighted estimate; seconds: wall time of "
           "`model.fit` (tracing included).", "",
           "| model | likelihood | test nats/point | published | params | steps | train s |",
           "|---|---|---|---|---|---|---|"]
  for m in names:
    r = runs[f"model/{m}"]
    published = PUBLISHED.get(m)
    lines.append(f"| {m} | {r['likelihood']} | {r['test_nats_per_point']:.3f} +- "
                 f"{r['test_se']:.3f} | {'-' if published is None else published} | "
                 f"{r['params']} | {r['steps']} | {r['train_seconds']:.0f} |")
  for other, value in OTHERS.items():
    lines.append(f"| {other} | published | - | {value} | - | - | - |")
  lines += ["", "Samples: `samples.png` (data, then each model); training curves: `curves.png`."]
  markdown = "\n".join(lines) + "\n"
  with open(os.path.join(out, "results.md"), "w") as f:
    f.write(markdown)

  from tfp_flows.datasets.spatial_mnist import load_spatial_mnist_numpy

  data = load_spatial_mnist_numpy("test", config["data_dir"], config["mnist_dir"])[0][:25]
  panels = [("data (test)", data)] + [
      (m, np.load(os.path.join(runner.task_folder(out, f"model/{m}"), "samples.npy")))
      for m in names]
  fig = plt.figure(figsize=(3.2 * len(panels), 3.4))
  spec = fig.add_gridspec(1, len(panels), wspace=0.1)
  for j, (title, sets) in enumerate(panels):
    _scatter_grid(fig, spec[0, j], sets, title)
  fig.savefig(os.path.join(out, "samples.png"), dpi=80)
  plt.close(fig)

  fig, ax = plt.subplots(figsize=(5, 3.5))
  for m in names:
    with open(os.path.join(runner.task_folder(out, f"model/{m}"), "history.json")) as f:
      curves = json.load(f)
    steps = config["steps_per_epoch"] * np.arange(1, len(curves["loss"]) + 1)
    line, = ax.plot(steps, -np.asarray(curves["loss"]), label=f"{m} train")
    ax.plot(steps, -np.asarray(curves["val_loss"]), "--", color=line.get_color(),
            label=f"{m} validation")
  ax.set_xlabel("training step")
  ax.set_ylabel("log-likelihood, nats per point")
  ax.legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(os.path.join(out, "curves.png"), dpi=80)
  plt.close(fig)
  return markdown


STUDY = runner.Study("spatial-mnist", PRESETS, configure, tasks, run_task, report,
                     add_arguments=add_arguments)
