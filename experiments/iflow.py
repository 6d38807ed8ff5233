"""The iFlow vs iVAE identifiability study (Li, Hooi & Lee 2019, arXiv:1909.12555, Sec. 5).

`tfp-flows reproduce iflow [--preset quick|paper] [--seeds 1-100]
[--models iflow,ivae,ivae-learned-mean] [--parallel auto|K] [--out DIR] [runner options]`

A study of `experiments.runner`. One task per (part, model, seed), keys `study/<model>/<seed>`
and `visual/<model>/<seed>` (the 2-D visual case, first seed only). Pending seeds of a model
run in groups of K (`--parallel`) as ONE unit `<part>/<model>/seeds-<first>-<last>`: the K
seeds train as one stacked model under one `tf.function`. Each seed: draw its
nonstationary-sources data, train with `model.fit` (Adam 1e-3, batch 64, per-model
ReduceLROnPlateau 0.25 / 10 epochs), score the MCC of the recovered sources on all N points;
its latents go to `tasks/<part>/<model>/<seed>/latents.npz`. Table and figures:
`experiments.iflow_report`. A `results.json` of the layout before the runner (`runs`) is
migrated on load: each finished seed becomes a finished task; its latents stay in `latents/`.
"""
import json
import os
import time

import keras
import numpy as np
import tensorflow as tf

from experiments import iflow_report
from experiments import runner
from tfp_flows.datasets import nonstationary_sources
from tfp_flows.metrics import mean_corr_coef
from tfp_flows.models import IFlow, IVAE, PerModelReduceLROnPlateau, StackedAdam, stacked

# iterations: optimiser steps per model; data: nonstationary_sources arguments.
PRESETS = {
    "paper": dict(iterations=12_500, seeds="1-100",
                  data=dict(n_per_segment=1000, n_segments=40, dim=5, n_layers=3),
                  iflow=dict(num_steps=10, hidden_units=256)),
    "quick": dict(iterations=400, seeds="1-2",
                  data=dict(n_per_segment=100, n_segments=40, dim=5, n_layers=3),
                  iflow=dict(num_steps=2, hidden_units=64)),
}
VISUAL = dict(n_segments=5, dim=2)
MODELS = {
    "iflow": lambda d, m, k, s, c: IFlow(d, m, num_models=k, seed=s, **c),
    "iflow-xi-only": lambda d, m, k, s, c: IFlow(d, m, positive_eta=False, num_models=k,
                                                 seed=s, **c),
    "ivae": lambda d, m, k, s, c: IVAE(d, d, m, num_models=k, seed=s),
    "ivae-learned-mean": lambda d, m, k, s, c: IVAE(d, d, m, learn_prior_mean=True,
                                                    num_models=k, seed=s),
}
BATCH, LEARNING_RATE = 64, 1e-3


def parse_seeds(text):
  """'1-100', '3' or '1,4,9-12' -> sorted list of seeds in 0 .. 2**32 - 1; ValueError naming the bad part."""
  seeds = set()
  for part in str(text).split(","):
    lo, dash, hi = part.strip().partition("-")
    try:
      lo, hi = int(lo), int(hi if dash else lo)
    except ValueError:
      raise ValueError(f"--seeds: cannot read {part!r} in {text!r}; expected e.g. '1-100', "
                       "'7' or '1,4,9-12'.") from None
    if lo < 0 or hi < lo:
      raise ValueError(f"--seeds: {part!r} is not a range of non-negative integers a-b "
                       "with a <= b.")
    runner.seed("--seeds", hi)
    seeds.update(range(lo, hi + 1))
  return sorted(seeds)


def add_arguments(parser):
  """`--seeds`, `--models`, `--parallel` (beside the runner's options)."""
  parser.add_argument("--seeds", default=None, help="e.g. 1-100 (default: the preset's)")
  runner.add_names(parser, "--models", f"some of {sorted(MODELS)}",
                   default=["iflow", "ivae", "ivae-learned-mean"])
  parser.add_argument("--parallel", default="auto",
                      help="train K seeds at once as one stacked model; 'auto' (default) "
                           "picks K for the device (models.stacked.auto_num_models)")


def configure(args, preset):
  """The run config: preset settings, `seeds`, `models`, `parallel` (K or "auto").

  Raises:
    ValueError: for a bad `--seeds`, an unknown model, or `--parallel` not auto nor >= 1.
  """
  seeds = parse_seeds(args.seeds or preset["seeds"])
  models = runner.choices("--models", args.models, MODELS)
  parallel = runner.integer("--parallel", args.parallel, 1, words=("auto",))
  if parallel != "auto" and parallel > len(seeds):
    print(f"--parallel {parallel} is more than the {len(seeds)} seeds: training "
          f"{len(seeds)} at once.")
    parallel = len(seeds)
  return dict(preset, seeds=seeds, models=models, parallel=parallel)


def tasks(config):
  """`study/<model>/<seed>` for every model and seed, then `visual/<model>/<first seed>`."""
  return ([f"study/{m}/{s}" for m in config["models"] for s in config["seeds"]]
          + [f"visual/{m}/{config['seeds'][0]}" for m in config["models"]])


def _num_models(config, pending):
  """K for `pending` seeds: `--parallel` (clamped), or `stacked.auto_num_models` for auto."""
  if config["parallel"] == "auto":
    return stacked.auto_num_models(pending)
  return min(config["parallel"], pending)


def group(keys, config):
  """Pending seeds of each (part, model) in sorted groups of K: `<part>/<model>/k<K>-seeds-a-b`.

  The groups are balanced (sizes K' and K' - 1, K' = ceil(n / ceil(n / K)) for n pending seeds)
  and all train as K'-stacked models, the smaller ones padded, so one traced step serves all.
  """
  pending = {}
  for key in keys:
    part, model, seed = key.split("/")
    pending.setdefault((part, model), []).append(int(seed))
  units = []
  for (part, model), seeds in pending.items():
    seeds = sorted(seeds)
    chunks = -(-len(seeds) // _num_models(config, len(seeds)))
    k = -(-len(seeds) // chunks)
    for chunk in np.array_split(seeds, chunks):
      units.append((f"{part}/{model}/k{k}-seeds-{chunk[0]}-{chunk[-1]}",
                    [f"{part}/{model}/{s}" for s in chunk]))
  return units


def _stack(datasets, key):
  return np.stack([d[key] for d in datasets], axis=1)


_TRAINERS = {}  # one compiled model per process and (model, data, K, iterations)


class Trainer:
  """One compiled model per (model name, K, data shape), reused across seed groups.

  Tracing the 10-step spline flow takes minutes; a new seed group only loads
  freshly initialised weights (drawn by a new model of the same shape) and
  restarts the optimiser, so `fit`'s traced step is reused. `jit_compile`: XLA (the models'
  default; its compilation outweighs the training of a tiny test model).
  """

  def __init__(self, name, data_cfg, model_cfg, k, iterations, jit_compile=True):
    self.name, self.k = name, k
    self.data_cfg, self.model_cfg = data_cfg, model_cfg
    n = data_cfg["n_per_segment"] * data_cfg["n_segments"]
    self.epochs = max(1, int(round(iterations / -(-n // BATCH))))
    self.iterations = self.epochs * -(-n // BATCH)
    self.model = self._new_model(seed=0)
    self.model.compile(optimizer=StackedAdam(k, learning_rate=LEARNING_RATE),
                       jit_compile=jit_compile)
    model = self.model

    def evaluate(x, u):  # a closure per trainer: TF counts retraces per Python function
      z = model.encode(x, u)
      extra = model.encode(x, u, sample=True) if isinstance(model, IVAE) else z
      return z, extra, model.per_example_loss(x, u, training=False)

    self._eval = tf.function(evaluate)

  def _new_model(self, seed):
    d = self.data_cfg
    return MODELS[self.name](d["dim"], d["n_segments"], None if self.k == 1 else self.k,
                             seed, self.model_cfg)

  def train(self, seeds, ctx):
    """Trains one model per seed (len(seeds) == K) with `ctx.callbacks()`.

    Returns:
      list of `(result, z, s, segment)` per seed: the result dict, and latents, true sources
      and segment labels of up to 2000 points for the figures.
    """
    data = [nonstationary_sources(seed=s, **self.data_cfg) for s in seeds]
    x, u = (_stack(data, "x"), _stack(data, "u")) if self.k > 1 else (data[0]["x"], data[0]["u"])
    self.model.check_inputs(x, u)
    keras.utils.set_random_seed(seeds[0])
    self.model.set_weights(self._new_model(seed=seeds[0]).get_weights())
    self.model.optimizer.reset(LEARNING_RATE)
    start = time.time()
    self.model.fit({"x": x, "u": u}, batch_size=BATCH, epochs=self.epochs, verbose=ctx.verbose,
                   callbacks=[PerModelReduceLROnPlateau(factor=0.25, patience=10),
                              *ctx.callbacks()])
    wall = time.time() - start
    # A stacked model stops alone when its loss turns non-finite (its weights frozen at
    # the last finite update); the runner's guard stops the fit only if the total did.
    stopped = self.model.nonfinite_models()
    diverged = ctx.nonfinite is not None
    outputs = [[], [], []]
    for i in range(0, len(x), 4096):
      for acc, val in zip(outputs, self._eval(x[i:i + 4096], u[i:i + 4096])):
        acc.append(val.numpy())
    z, z_sample, loss = (np.concatenate(o) for o in outputs)
    if self.k == 1:
      z, z_sample, loss = z[:, None], z_sample[:, None], loss[:, None]
    results = []
    for j, (seed, d) in enumerate(zip(seeds, data)):
      ok = np.all(np.isfinite(z[:, j]))
      failed = diverged or bool(stopped[j])
      res = dict(seed=seed, mcc=float(mean_corr_coef(z[:, j], d["s"])) if ok else None,
                 final_loss=float(loss[:, j].mean()), iterations=self.iterations,
                 wall_seconds=wall / self.k, stacked=self.k,
                 status="nan" if failed else "ok",
                 nonfinite=ctx.nonfinite if diverged else (
                     "non-finite loss; this model of the stack stopped there and was evaluated "
                     "at its last finite weights" if failed else None))
      if isinstance(self.model, IVAE) and ok:
        res["mcc_posterior_sample"] = float(mean_corr_coef(z_sample[:, j], d["s"]))
      keep = slice(None, None, max(1, len(z) // 2000))  # latents kept for the figures
      results.append((res, z[keep, j], d["s"][keep], d["u"][keep].argmax(-1)))
    return results


def run_task(unit, config, ctx):
  """Trains the seeds of one unit as one stacked model; returns `{seed key: result}`."""
  part, name, label = unit.split("/")
  data_cfg = config["data"] if part == "study" else {**config["data"], **VISUAL}
  seeds = [int(key.split("/")[2]) for key in ctx.members]
  k = int(label[1:label.index("-")])
  xla = config.get("jit_compile", True)  # a preset may turn XLA off (tiny test presets)
  cache = json.dumps([name, data_cfg, k, config["iterations"], xla])
  if cache not in _TRAINERS:
    _TRAINERS[cache] = Trainer(name, data_cfg, config["iflow"] if name.startswith("iflow") else {},
                               k, config["iterations"], xla)
  padded = seeds + [seeds[-1]] * (k - len(seeds))  # keep the traced shape
  try:
    trained = _TRAINERS[cache].train(padded, ctx)
  except tf.errors.ResourceExhaustedError as e:  # a stack too large for a GPU's memory
    device = "/GPU:0" if tf.config.list_physical_devices("GPU") else "/CPU:0"
    raise RuntimeError(stacked.out_of_memory_message(k, device)) from e
  results = {}
  for key, (res, z, s, seg) in zip(ctx.members, trained):
    np.savez_compressed(os.path.join(ctx.folder_of(key), "latents.npz"), z=z, s=s, segment=seg)
    results[key] = res
  return results


def report(out, results):
  """Rebuilds `results.md` and the figures from the results and the saved latents."""
  return iflow_report.write(out, results)


def migrate(results):
  """The layout before the runner -> tasks: each finished seed of `runs` becomes a finished task.

  `runs` was `{"study"|"visual": {model: {seed: result}}}` with `data` and `iflow_config`
  beside it; latents stay in `latents/<part>_<model>_seed<seed>.npz`, where the report
  finds them.
  """
  if "runs" not in results or "tasks" in results:
    return None
  tasks = {}
  for part, models in results["runs"].items():
    for model, seeds in models.items():
      for seed, res in seeds.items():
        tasks[f"{part}/{model}/{seed}"] = dict(
            res, nonfinite=res.get("message") if res.get("status", "ok") != "ok" else None,
            task_seconds=res.get("wall_seconds"))
  return dict(study=results["study"], preset=results.get("preset"), tasks=tasks,
              config=dict(data=results.get("data"), iflow=results.get("iflow_config")),
              migrated_from="runs")


STUDY = runner.Study("iflow", PRESETS, configure, tasks, run_task, report,
                     add_arguments=add_arguments, group=group, migrate=migrate)
