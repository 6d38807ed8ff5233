"""The iFlow vs iVAE identifiability study (Li, Hooi & Lee 2019, arXiv:1909.12555, Sec. 5).

`tfp-flows reproduce iflow [--preset quick|paper] [--seeds 1-100]
[--models iflow,ivae,ivae-learned-mean] [--parallel K] [--out DIR]`

For each model and seed: draw the seed's nonstationary-sources data, train
with `model.fit` (Adam 1e-3, batch 64, per-model ReduceLROnPlateau 0.25 /
10 epochs), score the MCC of the recovered sources on all N points, and
record it in `results.json` at once, so a rerun skips finished seeds. With
`--parallel K`, K seeds train as one stacked model under one `tf.function`.
Then the 2-D visual case, the table and the figures (`experiments.iflow_report`).
"""
import os
import time

import keras
import numpy as np
import tensorflow as tf

from experiments import iflow_report
from experiments import results as results_file
from tfp_flows.datasets import nonstationary_sources
from tfp_flows.metrics import mean_corr_coef
from tfp_flows.models import IFlow, IVAE, PerModelReduceLROnPlateau, StackedAdam, stacked

STUDY = "iflow"
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
  """'1-100', '3' or '1,4,9-12' -> sorted list of ints; ValueError naming the bad part."""
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
    seeds.update(range(lo, hi + 1))
  return sorted(seeds)


def add_arguments(parser):
  parser.add_argument("--seeds", default=None, help="e.g. 1-100 (default: the preset's)")
  parser.add_argument("--models", default="iflow,ivae,ivae-learned-mean")
  parser.add_argument("--parallel", default="auto",
                      help="train K seeds at once as one stacked model; 'auto' (default) "
                           "picks K for the device (models.stacked.auto_num_models)")
  parser.add_argument("--verbose", type=int, default=0, help="Keras fit verbosity")


def _stack(datasets, key):
  return np.stack([d[key] for d in datasets], axis=1)


class Trainer:
  """One compiled model per (model name, K, data shape), reused across seed groups.

  Tracing the 10-step spline flow takes minutes; a new seed group only loads
  freshly initialised weights (drawn by a new model of the same shape) and
  restarts the optimiser, so `fit`'s traced step is reused.
  """

  def __init__(self, name, data_cfg, model_cfg, k, iterations, checkpoint_dir, verbose):
    self.name, self.k, self.verbose = name, k, verbose
    self.data_cfg, self.model_cfg = data_cfg, model_cfg
    n = data_cfg["n_per_segment"] * data_cfg["n_segments"]
    self.epochs = max(1, int(round(iterations / -(-n // BATCH))))
    self.iterations = self.epochs * -(-n // BATCH)
    self.checkpoint = os.path.join(checkpoint_dir, f"{name}_k{k}.weights.h5")
    self.model = self._new_model(seed=0)
    self.model.compile(optimizer=StackedAdam(k, learning_rate=LEARNING_RATE))
    self._eval = tf.function(self._evaluate)

  def _new_model(self, seed):
    d = self.data_cfg
    return MODELS[self.name](d["dim"], d["n_segments"], None if self.k == 1 else self.k,
                             seed, self.model_cfg)

  def _evaluate(self, x, u):
    z = self.model.encode(x, u)
    extra = self.model.encode(x, u, sample=True) if isinstance(self.model, IVAE) else z
    return z, extra, self.model.per_example_loss(x, u, training=False)

  def train(self, seeds):
    """Trains one model per seed (len(seeds) == K); returns per-seed result dicts."""
    data = [nonstationary_sources(seed=s, **self.data_cfg) for s in seeds]
    x, u = (_stack(data, "x"), _stack(data, "u")) if self.k > 1 else (data[0]["x"], data[0]["u"])
    self.model.check_inputs(x, u)
    keras.utils.set_random_seed(seeds[0])
    self.model.set_weights(self._new_model(seed=seeds[0]).get_weights())
    self.model.optimizer.reset(LEARNING_RATE)
    if os.path.exists(self.checkpoint):
      os.remove(self.checkpoint)
    start = time.time()
    history = self.model.fit(
        {"x": x, "u": u}, batch_size=BATCH, epochs=self.epochs, verbose=self.verbose,
        callbacks=[PerModelReduceLROnPlateau(factor=0.25, patience=10),
                   keras.callbacks.TerminateOnNaN(),
                   keras.callbacks.ModelCheckpoint(self.checkpoint, monitor="loss",
                                                   save_best_only=True,
                                                   save_weights_only=True,
                                                   # never keep a NaN first epoch
                                                   initial_value_threshold=np.inf)])
    wall = time.time() - start
    # A stacked model stops alone when its loss turns non-finite (its weights frozen at
    # the last finite update); the whole fit stops only if every model did.
    stopped = self.model.nonfinite_models()
    diverged = not np.all(np.isfinite(history.history["loss"]))
    restored = diverged and os.path.exists(self.checkpoint)
    if restored:
      self.model.load_weights(self.checkpoint)
      restored = all(np.isfinite(w.numpy()).all() for w in self.model.trainable_weights)
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
                 status="nan" if failed else "ok")
      if isinstance(self.model, IVAE) and ok:
        res["mcc_posterior_sample"] = float(mean_corr_coef(z_sample[:, j], d["s"]))
      if failed and not diverged:
        res["message"] = ("loss became non-finite; this model of the stack stopped there "
                          "and was evaluated at its last finite weights")
      elif diverged:
        res["message"] = ("loss became NaN; evaluated at the last good checkpoint "
                          f"{self.checkpoint}" if restored else
                          "loss became NaN and no epoch ended with finite weights")
      keep = slice(None, None, max(1, len(z) // 2000))  # latents kept for the figures
      results.append((res, z[keep, j], d["s"][keep], d["u"][keep].argmax(-1)))
    return results


def _run_models(args, preset, data_cfg, seeds, key, results):
  out = args.out
  runs = results["runs"].setdefault(key, {})
  todo = [(m, s) for m in args.models for s in seeds if str(s) not in runs.get(m, {})]
  if not todo:
    return
  bar = keras.utils.Progbar(len(todo), unit_name="seed-model", stateful_metrics=args.models)
  for name in args.models:
    pending = [s for s in seeds if str(s) not in runs.get(name, {})]
    if not pending:
      continue
    k = stacked.auto_num_models(len(pending)) if args.parallel == "auto" else min(
        args.parallel, len(pending))
    trainer = Trainer(name, data_cfg, preset["iflow"] if name.startswith("iflow") else {},
                      k, preset["iterations"], os.path.join(out, "checkpoints"), args.verbose)
    for i in range(0, len(pending), k):
      group = pending[i:i + k]
      padded = group + [group[-1]] * (k - len(group))  # keep the traced shape
      for res, z, s, seg in trainer.train(padded)[:len(group)]:
        runs.setdefault(name, {})[str(res["seed"])] = res
        np.savez_compressed(os.path.join(out, "latents", f"{key}_{name}_seed{res['seed']}.npz"),
                            z=z, s=s, segment=seg)
        if res["status"] != "ok":
          print(f"\n[{name} seed {res['seed']}] {res['message']}; going on.")
      results_file.save(out, results)
      mccs = [r["mcc"] for r in runs[name].values() if r["mcc"] is not None]
      bar.add(len(group), values=[(name, np.mean(mccs) if mccs else np.nan)])


def run(args):
  preset = results_file.check_preset(args.preset, PRESETS)
  seeds = parse_seeds(args.seeds or preset["seeds"])
  args.models = [m.strip() for m in args.models.split(",") if m.strip()]
  unknown = [m for m in args.models if m not in MODELS]
  if unknown or not args.models:
    raise ValueError(f"--models: unknown {unknown or args.models}; expected names from "
                     f"{sorted(MODELS)}.")
  if args.parallel != "auto":
    try:
      args.parallel = int(args.parallel)
    except ValueError:
      raise ValueError(f"--parallel must be 'auto' or a positive integer, got "
                       f"{args.parallel!r}.") from None
    if args.parallel < 1:
      raise ValueError(f"--parallel must be 'auto' or a positive integer, got {args.parallel}.")
    if args.parallel > len(seeds):
      print(f"--parallel {args.parallel} is more than the {len(seeds)} seeds: using "
            f"--parallel {len(seeds)}.")
      args.parallel = len(seeds)
  os.makedirs(os.path.join(args.out, "latents"), exist_ok=True)
  results = results_file.load(args.out, STUDY)
  if results.get("preset", args.preset) != args.preset:
    raise ValueError(f"{args.out} holds results of preset {results['preset']!r}; use another "
                     f"--out for preset {args.preset!r}.")
  results.update(study=STUDY, preset=args.preset, data=preset["data"],
                 iflow_config=preset["iflow"])
  print(f"iFlow study, preset {args.preset}: models {args.models}, {len(seeds)} seeds, "
        f"{preset['iterations']} iterations each, --parallel {args.parallel}")
  _run_models(args, preset, preset["data"], seeds, "study", results)
  visual = {**preset["data"], **VISUAL}
  _run_models(args, preset, visual, seeds[:1], "visual", results)
  results_file.save(args.out, results)
  report(args.out)


def report(out):
  """Rebuilds `results.md` and the figures from `results.json` and the saved latents."""
  print(iflow_report.write(out, results_file.load(out, STUDY)))
