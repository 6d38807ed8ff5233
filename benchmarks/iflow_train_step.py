"""Times one training iteration of the paper-sized iFlow (batch 64) on this machine.

Side by side in one run, each variant traced once and then timed in interleaved
rounds (so load drift hits all alike):
  tfp_builtin: what a TFP user writes today, a `tfb.Chain` of
      `tfb.MaskedAutoregressiveFlow` steps whose `tf_keras` `tfb.AutoregressiveNetwork`
      (5 hidden layers of 256) emits `tfb.RationalQuadraticSpline` parameters, with the
      same permutations and LU layers; `log_prob` runs the one-pass direction;
  one_xla_off / one_xla_on: tfp_flows `IFlow` (10 x [permutation, LU, RQ-spline MADE
      256 x 2 residual blocks, dropout 0.25]), one model, XLA off / on;
  stacked_K: K seeds as one stacked model (XLA on), per seed-iteration, for each K of
      `--stack`;
  fit_K: the study's own loop, `model.fit` with its callbacks and input pipeline, K seeds
      stacked (K = the study's `--parallel auto` choice), timed over one epoch after a
      first epoch that traces, per seed-iteration;
and for every variant the graph's node count and the seconds to trace it (Python
tracing) and to run it first (tracing plus XLA compilation).
Prints one JSON line (milliseconds per seed-iteration: median over rounds, and the
min/max) and writes it to docs/benchmarks.md.

Usage: python benchmarks/iflow_train_step.py [--iters 20] [--rounds 3] [--stack 4,8,16]
       [--no-write]
"""
import argparse
import json
import os
import platform
import sys
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

from write_section import write_section
from tfp_flows.layers.spline_autoregressive import spline_params_size
from tfp_flows.models import IFlow, PerModelReduceLROnPlateau, StackedAdam, stacked

tfb, tfd = tfp.bijectors, tfp.distributions
DIM, SEGMENTS, BATCH, BINS, BOUND = 5, 40, 64, 8, 3.0


def tfp_spline(params):
  """`tfb.RationalQuadraticSpline` from raw parameters, the nflows parameterisation."""
  w, h, d = params[..., :BINS] / 16.0, params[..., BINS:2 * BINS] / 16.0, params[..., 2 * BINS:]
  bins = lambda raw: 2 * BOUND * (1e-3 + (1 - 1e-3 * BINS) * tf.nn.softmax(raw, axis=-1))
  return tfb.RationalQuadraticSpline(bins(w), bins(h), 1e-3 + tf.nn.softplus(d),
                                     range_min=-BOUND)


def tfp_builtin(rng):
  """The TFP-only iFlow flow with a Gaussian prior of the same MLP; returns (step, variables)."""
  nets, lus, perms = [], [], []
  for i in range(11):
    perms.append(rng.permutation(DIM).astype("int32"))
    lus.append(tf.Variable(tf.eye(DIM)))
    if i < 10:
      nets.append(tfb.AutoregressiveNetwork(params=spline_params_size(BINS), event_shape=[DIM],
                                            hidden_units=[256] * 5, activation="relu"))
  prior = tf_keras.Sequential([tf_keras.layers.Dense(30, "relu"),
                               tf_keras.layers.Dense(20, "relu"),
                               tf_keras.layers.Dense(2 * DIM)])

  def loss_fn(x, u):
    steps = []
    for i in range(11):
      steps += [tfb.Permute(perms[i]), tfb.ScaleMatvecLU(lus[i], tf.range(DIM))]
      if i < 10:
        steps.append(tfb.MaskedAutoregressiveFlow(
            bijector_fn=lambda y, net=nets[i]: tfb.Invert(tfp_spline(net(y)))))
    out = prior(u)
    xi, eta = tf.nn.softplus(out[..., :DIM]), tf.nn.softplus(out[..., DIM:])
    base = tfd.Independent(tfd.Normal(eta / (2 * xi), tf.math.rsqrt(2 * xi)), 1)
    return -tf.reduce_mean(tfd.TransformedDistribution(base, tfb.Chain(steps[::-1])).log_prob(x))

  loss_fn(tf.zeros([1, DIM]), tf.zeros([1, SEGMENTS]))  # builds the networks
  variables = lus + [v for n in nets for v in n.trainable_variables] + prior.trainable_variables
  opt = tf_keras.optimizers.Adam(1e-3)
  opt.build(variables)

  @tf.function
  def step(x, u):
    with tf.GradientTape() as tape:
      loss = loss_fn(x, u)
    opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss

  return step, int(sum(np.prod(v.shape) for v in variables))


def tfp_flows_step(k, jit):
  """One training iteration of `IFlow` with K stacked models; returns (step, params per model)."""
  model = IFlow(DIM, SEGMENTS, num_models=None if k == 1 else k)
  opt = StackedAdam(k, learning_rate=1e-3)
  opt.build(model.trainable_variables)

  @tf.function(jit_compile=jit)
  def step(x, u):
    with tf.GradientTape() as tape:
      loss = tf.reduce_sum(tf.reduce_mean(model.per_example_loss(x, u, training=True), 0))
    opt.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
    return loss

  return step, model.count_params() // k


def data(k, n=BATCH, seed=0):
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(n, DIM)).astype("float32")
  u = np.eye(SEGMENTS, dtype="float32")[rng.integers(0, SEGMENTS, n)]
  return (x, u) if k == 1 else (np.repeat(x[:, None], k, 1), np.repeat(u[:, None], k, 1))


def prepare(name, step, k):
  """Traces and first-runs a step; returns its record with node count and seconds."""
  x, u = data(k)
  start = time.perf_counter()
  graph = step.get_concrete_function(x, u).graph
  traced = time.perf_counter() - start
  step(x, u).numpy()
  first = time.perf_counter() - start
  return dict(name=name, step=step, k=k, x=x, u=u, times=[],
              nodes=len(graph.as_graph_def().node), trace_s=round(traced, 1),
              first_call_s=round(first, 1))


def time_round(record, iters):
  times = []
  for _ in range(iters):
    start = time.perf_counter()
    record["step"](record["x"], record["u"]).numpy()
    times.append(time.perf_counter() - start)
  record["times"].append(1000 * float(np.median(times)) / record["k"])


class EpochTimer(keras.callbacks.Callback):
  def on_epoch_begin(self, epoch, logs=None):
    self.start = time.perf_counter()

  def on_epoch_end(self, epoch, logs=None):
    self.seconds = time.perf_counter() - self.start


def time_fit(k, iterations, log_dir):
  """Per seed-iteration ms of the study's `fit` (callbacks, data pipeline), second epoch."""
  model = IFlow(DIM, SEGMENTS, num_models=None if k == 1 else k)
  model.compile(optimizer=StackedAdam(k, learning_rate=1e-3))
  x, u = data(k, n=BATCH * iterations, seed=1)
  timer = EpochTimer()
  callbacks = [PerModelReduceLROnPlateau(factor=0.25, patience=10),
               keras.callbacks.TerminateOnNaN(), keras.callbacks.TensorBoard(log_dir), timer]
  start = time.perf_counter()
  model.fit({"x": x, "u": u}, batch_size=BATCH, epochs=1, verbose=0, callbacks=callbacks)
  first = time.perf_counter() - start
  model.fit({"x": x, "u": u}, batch_size=BATCH, epochs=1, verbose=0, callbacks=callbacks)
  return 1000 * timer.seconds / iterations / k, first


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--iters", type=int, default=20, help="timed iterations per round")
  parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
  parser.add_argument("--stack", default="4,8,16", help="stack sizes K to time")
  parser.add_argument("--fit-iterations", type=int, default=100)
  parser.add_argument("--no-write", action="store_true")
  args = parser.parse_args()
  ks = [int(k) for k in args.stack.split(",")]
  load_before = os.getloadavg()
  records = []
  step, params_b = tfp_builtin(np.random.default_rng(0))
  records.append(prepare("tfp_builtin", step, 1))
  step, params_a = tfp_flows_step(1, jit=False)
  records.append(prepare("one_xla_off", step, 1))
  records.append(prepare("one_xla_on", tfp_flows_step(1, jit=True)[0], 1))
  for k in ks:
    records.append(prepare(f"stacked_{k}", tfp_flows_step(k, jit=True)[0], k))
  for _ in range(args.rounds):
    for record in records:
      time_round(record, args.iters)
  auto_k = stacked.auto_num_models(100, "/CPU:0")
  fit_ms, fit_first = time_fit(auto_k, args.fit_iterations, tempfile.mkdtemp(prefix="iflow_bench_tb"))
  ms = {r["name"]: float(np.median(r["times"])) for r in records}
  b = ms["tfp_builtin"]
  best_k = min(ks, key=lambda k: ms[f"stacked_{k}"])
  result = {
      "benchmark": "iflow_train_step", "batch": BATCH, "iters": args.iters,
      "rounds": args.rounds, "params_per_model": {"tfp_flows": int(params_a),
                                                  "tfp_builtin": int(params_b)},
      "ms_per_seed_iteration": {r["name"]: {"median": round(ms[r["name"]], 2),
                                            "min": round(min(r["times"]), 2),
                                            "max": round(max(r["times"]), 2)}
                                for r in records},
      "graph_nodes": {r["name"]: r["nodes"] for r in records},
      "trace_s": {r["name"]: r["trace_s"] for r in records},
      "first_call_s": {r["name"]: r["first_call_s"] for r in records},
      f"fit_{auto_k}_ms_per_seed_iteration": round(fit_ms, 2),
      f"fit_{auto_k}_first_epoch_s": round(fit_first, 1),
      "fit_over_bare_step": round(fit_ms / ms.get(f"stacked_{auto_k}", np.nan), 3),
      "fastest_stack": best_k, "auto_stack_cpu": auto_k,
      "one_xla_on_over_builtin": round(ms["one_xla_on"] / b, 3),
      "best_stacked_over_builtin": round(ms[f"stacked_{best_k}"] / b, 3),
      "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
                 f"TF {tf.__version__}, TFP {tfp.__version__}",
      "load_average_1min": {"before": round(load_before[0], 2),
                            "after": round(os.getloadavg()[0], 2)},
  }
  line = json.dumps(result)
  print(line)
  if not args.no_write:
    command = " ".join(["python benchmarks/iflow_train_step.py"] + sys.argv[1:])
    write_section("iflow_train_step", "## iFlow training step\n\nCommand: "
                  f"`{command}`\n\n```json\n" + line + "\n```\n")


if __name__ == "__main__":
  main()
