"""Against the anchor: BayesFlow's coupling-flow NPE vs ours, same SIR simulations and budget.

Issue 14, item 6. One run: the parent simulates the training pairs ONCE with
our SIR simulator (basic variant, the study's cpu preset: population, priors,
the pairs of `experiments.sir.training_data`), saves them to `--work/pairs.npz`
and trains each side in its own subprocess, one after the other, on those
arrays with the same epochs, batch size and optimizer (Adam, learning rate and
clipnorm of the preset):

* `ours`: `tfp_flows.models.NPE` as the study builds it (`sir.build_model`:
  10 affine coupling + permutation + LU steps, MLP summary [200, 200, 200] ->
  100 over log1p counts), `model.fit` on a shuffled `tf.data` of the arrays;
* `bayesflow`: `bayesflow.networks.CouplingFlow` at BayesFlow's defaults
  (6 dual couplings = 12 affine couplings, ActNorm, random permutations,
  subnets [128, 128]) in a `ContinuousApproximator` on log theta, with a
  summary network of the same shape as ours (log1p counts, flattened, ReLU
  MLP [200, 200, 200] -> 100), `fit` on an `OfflineDataset` of the arrays;
* `bayesflow-matched` (optional): the same with 5 dual couplings (10 affine
  couplings, as ours) and subnets [64, 64] (our conditioner widths).

BayesFlow lives in its own virtual environment (`--bayesflow-python`,
KERAS_BACKEND=tensorflow) and is imported only inside its subprocess. Each
side returns 1000 posterior draws for each of the reference observations and
its `fit` wall seconds; the parent computes C2ST against the MCMC reference
with `tfp_flows.metrics.c2st` exactly as the study does
(`sir.c2st_against_reference`), plus the width ratio and shift of each
side's log theta draws against the reference (`score`), and prints one JSON
object, with the `os.getloadavg()` load average before and after.
`--score-only` re-scores the draws a finished run left in `--work`.

Usage (the stored cpu-preset references; no MCMC runs):
  PYTHONPATH=$PWD nice -n 10 python benchmarks/sir_bayesflow.py \\
      --reference /work/runs/sir-cpu/tasks/reference/basic/reference.npz \\
      --bayesflow-python /work/venv-bayesflow/bin/python --epochs 10 --work /tmp/sir_bf
Without `--reference` the parent samples the references with NUTS first
(`sir.run_reference`, the cpu preset's chains; about 20 minutes on 2 cores).
"""
import argparse
import json
import os
import subprocess
import sys
import time
import types

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIDES = ("ours", "bayesflow", "bayesflow-matched")
# BayesFlow CouplingFlow settings per side: (dual-coupling depth, subnet widths); None = default.
BAYESFLOW_FLOWS = {"bayesflow": (None, None), "bayesflow-matched": (5, (64, 64))}


def study_config(args):
  """The study's cpu-preset config with this run's budget and seed."""
  sys.path.insert(0, REPO)
  from experiments import sir
  return dict(sir.PRESETS["cpu"], epochs=args.epochs, num_simulations=args.num_simulations,
              seed=args.seed, posterior_draws=args.draws)


def simulate_pairs(config, path):
  """The study's training pairs, simulated once, saved as x `[N, 100, 2]`, theta `[N, 2]`."""
  from experiments import sir
  task = sir.make_task("basic", config)
  start = time.time()
  batch = next(iter(sir.training_data(task, config, batch_size=config["num_simulations"])))
  np.savez(path, x=batch["x"].numpy(), theta=batch["theta"].numpy())
  return time.time() - start


def reference_file(args, config):
  """`--reference`, or a fresh NUTS reference (the study's reference task) in `--work`."""
  if args.reference:
    return args.reference, None
  from experiments import sir
  info = sir.run_reference("basic", config, types.SimpleNamespace(folder=args.work))
  return os.path.join(args.work, "reference.npz"), info


def epoch_clock():
  """A Keras callback whose `times` list gets the wall seconds of each epoch."""
  import keras
  clock = keras.callbacks.LambdaCallback()
  clock.times = []
  clock.on_epoch_begin = lambda epoch, logs=None: clock.times.append(-time.time())
  clock.on_epoch_end = lambda epoch, logs=None: clock.times.__setitem__(
      -1, clock.times[-1] + time.time())
  return clock


def run_ours(config, pairs, x_obs, verbose):
  """Trains our NPE on the pairs; returns (draws [O, n, 2], fit seconds, losses, parameters)."""
  import tensorflow as tf
  sys.path.insert(0, REPO)
  from experiments import sir
  model = sir.build_model(sir.make_task("basic", config), "flow", config)
  n = len(pairs["theta"])
  ds = (tf.data.Dataset.from_tensor_slices({"x": pairs["x"], "theta": pairs["theta"]})
        .shuffle(n, seed=config["seed"]).batch(config["batch_size"], drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE))
  clock, start = epoch_clock(), time.time()
  history = model.fit(ds, epochs=config["epochs"], verbose=verbose, callbacks=[clock])
  seconds = time.time() - start
  q = sir.draw(model, x_obs, config["posterior_draws"], config["seed"] + 11)
  return (q, seconds, history.history["loss"], model.count_params(),
          dict(epoch_seconds=clock.times))


def run_bayesflow(config, pairs, x_obs, verbose, depth, widths):
  """Trains a BayesFlow CouplingFlow NPE on the pairs; same returns as `run_ours`."""
  os.environ.setdefault("KERAS_BACKEND", "tensorflow")
  import bayesflow as bf
  import keras

  class MLPSummary(bf.networks.SummaryNetwork):
    """Flattened series -> ReLU MLP `hidden` -> `units` (our `SummaryNetwork` "mlp" shape)."""

    def __init__(self, hidden, units, **kwargs):
      super().__init__(**kwargs)
      self.net = keras.Sequential([keras.layers.Flatten()]
                                  + [keras.layers.Dense(h, activation="relu") for h in hidden]
                                  + [keras.layers.Dense(units)])

    def call(self, x, training=False, **kwargs):
      return self.net(x, training=training)

  keras.utils.set_random_seed(config["seed"])
  adapter = (bf.Adapter().convert_dtype("float64", "float32").log("theta").log("x", p1=True)
             .rename("theta", "inference_variables").rename("x", "summary_variables"))
  flow_kwargs = {} if depth is None else dict(depth=depth, subnet_kwargs={"widths": widths})
  approximator = bf.ContinuousApproximator(
      inference_network=bf.networks.CouplingFlow(**flow_kwargs), adapter=adapter,
      summary_network=MLPSummary(config["summary_hidden"], config["context_size"]))
  approximator.compile(optimizer=keras.optimizers.Adam(config["learning_rate"],
                                                       clipnorm=config["clipnorm"]))
  data = bf.datasets.OfflineDataset(data={"x": pairs["x"], "theta": pairs["theta"]},
                                    batch_size=config["batch_size"], adapter=adapter)
  clock, start = epoch_clock(), time.time()
  history = approximator.fit(dataset=data, epochs=config["epochs"], verbose=verbose,
                             callbacks=[clock])
  seconds = time.time() - start
  q = approximator.sample(num_samples=config["posterior_draws"], conditions={"x": x_obs},
                          seed=config["seed"] + 11)["theta"]
  flow = approximator.inference_network
  return (q, seconds, history.history["loss"], approximator.count_params(),
          dict(bayesflow_version=bf.__version__, keras_version=keras.__version__,
               depth=flow.depth, subnet_widths=list(widths or (128, 128)),
               batches_per_epoch=data.num_batches, epoch_seconds=clock.times))


def child(args):
  """A side's subprocess: trains on `--work/pairs.npz`, writes `--work/<side>.npz` and `.json`."""
  config = json.loads(args.config)
  pairs = dict(np.load(os.path.join(args.work, "pairs.npz")))
  x_obs = np.load(args.reference_path)["x"]
  if args.side == "ours":
    result = run_ours(config, pairs, x_obs, args.verbose)
  else:
    result = run_bayesflow(config, pairs, x_obs, args.verbose, *BAYESFLOW_FLOWS[args.side])
  q, seconds, losses, params, extra = result
  np.savez(os.path.join(args.work, f"{args.side}.npz"), q=np.asarray(q, np.float32))
  with open(os.path.join(args.work, f"{args.side}.json"), "w") as f:
    epochs = extra.pop("epoch_seconds")
    later = float(np.median(epochs[1:])) if len(epochs) > 1 else None
    json.dump(dict(extra, train_seconds=seconds, first_epoch_seconds=epochs[0],
                   later_epoch_seconds_median=later, loss_first=float(losses[0]),
                   loss_last=float(losses[-1]), parameters=int(params)), f)


def score(samples, q, seed):
  """C2ST (the study's protocol) and the shape of draws `q [O, n, P]` against `samples [O, M, P]`.

  Besides C2ST per observation: per observation and parameter, the width ratio
  std(log theta | q) / std(log theta | reference) (< 1: overconfident) and the
  shift |mean difference of log theta| in reference standard deviations.
  """
  from experiments import sir
  scores = sir.c2st_against_reference(samples, q, seed)
  log_q, log_ref = np.log(np.asarray(q, float)), np.log(np.asarray(samples, float))
  ref_std = log_ref.std(axis=1)
  return dict(c2st=[round(s, 4) for s in scores], c2st_mean=round(float(np.mean(scores)), 4),
              width_ratio=np.round(log_q.std(axis=1) / ref_std, 3).tolist(),
              shift=np.round(np.abs(log_q.mean(1) - log_ref.mean(1)) / ref_std, 3).tolist())


def score_only(args):
  """Re-scores the draws a finished run left in `--work` (no training); prints JSON."""
  sys.path.insert(0, REPO)
  ref = np.load(args.reference)
  results = {}
  for side in args.sides:
    with open(os.path.join(args.work, f"{side}.json")) as f:
      info = json.load(f)
    q = np.load(os.path.join(args.work, f"{side}.npz"))["q"]
    results[side] = dict(info, **score(ref["samples"], q, args.seed))
  print(json.dumps({"benchmark": "sir_bayesflow", "score_only": args.work,
                    "reference": args.reference, "results": results}))


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--reference", default=None,
                      help="reference.npz of the study (keys x, samples); default: run NUTS")
  parser.add_argument("--bayesflow-python", default="/work/venv-bayesflow/bin/python",
                      help="python of the virtual environment with BayesFlow")
  parser.add_argument("--sides", nargs="+", default=["ours", "bayesflow"], choices=SIDES)
  parser.add_argument("--epochs", type=int, default=10)
  parser.add_argument("--num-simulations", type=int, default=40000)
  parser.add_argument("--draws", type=int, default=1000, help="posterior draws per observation")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--repeats", type=int, default=1, help="rounds over the sides, interleaved")
  parser.add_argument("--work", default="/tmp/sir_bayesflow", help="folder for pairs and draws")
  parser.add_argument("--verbose", type=int, default=0, help="Keras fit verbosity of the sides")
  parser.add_argument("--score-only", action="store_true",
                      help="re-score the draws of a finished run in --work (needs --reference; "
                           "--seed is the C2ST seed)")
  parser.add_argument("--side", choices=SIDES, help=argparse.SUPPRESS)  # subprocess mode
  parser.add_argument("--config", help=argparse.SUPPRESS)
  parser.add_argument("--reference-path", help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  if args.side:
    return child(args)
  for name in ("epochs", "num_simulations", "draws", "repeats"):
    if getattr(args, name) < 1:
      parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
  if args.reference and not os.path.isfile(args.reference):
    parser.error(f"--reference {args.reference!r}: no such file")
  if args.score_only:
    if not args.reference:
      parser.error("--score-only needs --reference")
    return score_only(args)
  if any(s != "ours" for s in args.sides) and not os.access(args.bayesflow_python, os.X_OK):
    parser.error(f"--bayesflow-python {args.bayesflow_python!r}: not an executable")
  os.makedirs(args.work, exist_ok=True)
  load_before = os.getloadavg()
  config = study_config(args)
  simulate_seconds = simulate_pairs(config, os.path.join(args.work, "pairs.npz"))
  ref_path, ref_info = reference_file(args, config)
  ref = np.load(ref_path)
  if args.draws > ref["samples"].shape[1]:
    parser.error(f"--draws {args.draws}: at most the {ref['samples'].shape[1]} reference draws")
  results = {side: [] for side in args.sides}
  for _ in range(args.repeats):
    for side in args.sides:
      python = sys.executable if side == "ours" else args.bayesflow_python
      env = dict(os.environ, KERAS_BACKEND="tensorflow")
      subprocess.run([python, os.path.abspath(__file__), "--side", side, "--work", args.work,
                      "--config", json.dumps(config), "--reference-path", ref_path,
                      "--verbose", str(args.verbose)], check=True, env=env,
                     stdout=sys.stderr)  # Keras progress to stderr: stdout is the JSON alone
      with open(os.path.join(args.work, f"{side}.json")) as f:
        info = json.load(f)
      q = np.load(os.path.join(args.work, f"{side}.npz"))["q"]
      results[side].append(dict(info, **score(ref["samples"], q, config["seed"])))
  print(json.dumps({
    "benchmark": "sir_bayesflow", "variant": "basic", "epochs": args.epochs,
    "num_simulations": args.num_simulations, "batch_size": config["batch_size"],
    "learning_rate": config["learning_rate"], "clipnorm": config["clipnorm"],
    "seed": args.seed, "simulate_seconds": round(simulate_seconds, 2), "reference": ref_path,
    "reference_info": ref_info, "num_observations": int(len(ref["x"])), "draws": args.draws,
    "results": results, "load_average_before": [round(v, 2) for v in load_before],
    "load_average_after": [round(v, 2) for v in os.getloadavg()],
    "cpu_count": os.cpu_count()}))


if __name__ == "__main__":
  main()
