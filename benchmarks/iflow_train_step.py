"""Times one training iteration of the paper-sized iFlow (batch 64) on this machine.

Side by side in one run:
  (a) tfp_flows: `IFlow` (10 x [permutation, LU, RQ-spline MADE 256 x 2 residual
      blocks, dropout 0.25]), one iteration = log_prob, gradient, Adam update; also
      without dropout, since (b) has none;
  (b) what a TFP user writes today: a `tfb.Chain` of `tfb.MaskedAutoregressiveFlow`
      steps whose `tf_keras` `tfb.AutoregressiveNetwork` (5 hidden layers of 256)
      emits `tfb.RationalQuadraticSpline` parameters, with the same permutations and
      LU layers; `log_prob` runs the one-pass direction (MAF, not its `tfb.Invert`);
  (c) tfp_flows with K stacked seeds (`--parallel K`), reported per seed-iteration.
Prints one JSON line of median milliseconds and writes it to docs/benchmarks.md.

Usage: python benchmarks/iflow_train_step.py [--iters 30] [--parallel 8] [--no-write]
"""
import argparse
import json
import os
import platform
import re
import sys
import time

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

from tfp_flows.layers.spline_autoregressive import rational_quadratic_spline, spline_params_size
from tfp_flows.models import IFlow, StackedAdam

tfb, tfd = tfp.bijectors, tfp.distributions
DIM, SEGMENTS, BATCH, BINS = 5, 40, 64, 8


def tfp_baseline(rng):
  """(b): the TFP-only iFlow flow with a Gaussian prior of the same MLP; returns (loss_fn, variables)."""
  nets, lus, perms = [], [], []
  for i in range(11):
    perms.append(rng.permutation(DIM).astype("int32"))
    lus.append(tf.Variable(tf.eye(DIM)))
    if i < 10:
      nets.append(tfb.AutoregressiveNetwork(params=spline_params_size(BINS), event_shape=[DIM],
                                            hidden_units=[256] * 5, activation="relu"))
  prior = tf_keras.Sequential([tf_keras.layers.Dense(30, "relu"), tf_keras.layers.Dense(20, "relu"),
                               tf_keras.layers.Dense(2 * DIM)])

  def loss_fn(x, u):
    steps = []
    for i in range(11):
      steps += [tfb.Permute(perms[i]), tfb.ScaleMatvecLU(lus[i], tf.range(DIM))]
      if i < 10:
        net = nets[i]
        steps.append(tfb.MaskedAutoregressiveFlow(
            bijector_fn=lambda y, net=net: tfb.Invert(
                rational_quadratic_spline(net(y), BINS, 3.0, 256))))
    out = prior(u)
    xi, eta = tf.nn.softplus(out[..., :DIM]), tf.nn.softplus(out[..., DIM:])
    base = tfd.Independent(tfd.Normal(eta / (2 * xi), tf.math.rsqrt(2 * xi)), 1)
    flow = tfd.TransformedDistribution(base, tfb.Chain(steps[::-1]))
    return -tf.reduce_mean(flow.log_prob(x))

  x0, u0 = tf.zeros([1, DIM]), tf.zeros([1, SEGMENTS])
  loss_fn(x0, u0)
  variables = lus + [v for n in nets for v in n.trainable_variables] + prior.trainable_variables
  return loss_fn, variables


def time_steps(step, x, u, iters):
  step(x, u)  # trace and warm up
  step(x, u)
  times = []
  for _ in range(iters):
    t = time.perf_counter()
    step(x, u)
    times.append(time.perf_counter() - t)
  return 1000 * float(np.median(times))


def time_tfp_flows(x, u, k, iters, dropout=0.25):
  model = IFlow(DIM, SEGMENTS, num_models=None if k == 1 else k, dropout=dropout)
  opt = StackedAdam(k, learning_rate=1e-3)

  @tf.function
  def step(x, u):
    with tf.GradientTape() as tape:
      loss = tf.reduce_sum(tf.reduce_mean(model.per_example_loss(x, u, training=True), 0))
    opt.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
    return loss

  return time_steps(step, x, u, iters), model.count_params() // k


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--iters", type=int, default=30)
  parser.add_argument("--parallel", type=int, default=8)
  parser.add_argument("--no-write", action="store_true")
  args = parser.parse_args()
  rng = np.random.default_rng(0)
  x = rng.normal(size=(BATCH, DIM)).astype("float32")
  u = np.eye(SEGMENTS, dtype="float32")[rng.integers(0, SEGMENTS, BATCH)]
  k = args.parallel

  ms_a, params_a = time_tfp_flows(x, u, 1, args.iters)
  ms_a0, _ = time_tfp_flows(x, u, 1, args.iters, dropout=0.0)
  loss_b, vars_b = tfp_baseline(rng)
  opt_b = tf_keras.optimizers.Adam(1e-3)

  @tf.function
  def step_b(x, u):
    with tf.GradientTape() as tape:
      loss = loss_b(x, u)
    opt_b.apply_gradients(zip(tape.gradient(loss, vars_b), vars_b))
    return loss

  ms_b = time_steps(step_b, x, u, args.iters)
  xs, us = np.repeat(x[:, None], k, 1), np.repeat(u[:, None], k, 1)
  ms_c, _ = time_tfp_flows(xs, us, k, args.iters)
  result = {
      "benchmark": "iflow_train_step", "batch": BATCH, "iters": args.iters,
      "a_tfp_flows_ms": round(ms_a, 2), "a_params": int(params_a),
      "a_without_dropout_ms": round(ms_a0, 2),
      "b_tfp_maf_tf_keras_ms": round(ms_b, 2),
      "b_params": int(sum(np.prod(v.shape) for v in vars_b)),
      f"c_tfp_flows_parallel{k}_ms_per_seed_iteration": round(ms_c / k, 2),
      "c_over_a": round(ms_c / k / ms_a, 3), "a_over_b": round(ms_a / ms_b, 3),
      "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
                 f"TF {tf.__version__}, TFP {tfp.__version__}",
      "load_average_1min": round(os.getloadavg()[0], 2),
  }
  line = json.dumps(result)
  print(line)
  if not args.no_write:
    command = " ".join(["python benchmarks/iflow_train_step.py"] + sys.argv[1:])
    write_section("iflow_train_step", "## iFlow training step\n\nCommand: "
                  f"`{command}`\n\n```json\n" + line + "\n```\n")


def write_section(name, text, path=os.path.join(os.path.dirname(__file__), "..", "docs",
                                                "benchmarks.md")):
  """Replaces (or appends) the section between this benchmark's markers in docs/benchmarks.md."""
  begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
  old = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
  block = f"{begin}\n{text}{end}"
  pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
  new = pattern.sub(lambda _: block, old) if pattern.search(old) else old.rstrip() + "\n\n" + block + "\n"
  with open(path, "w") as f:
    f.write(new)


if __name__ == "__main__":
  main()
