"""Training-step time of the SurVAE toy flow with and without an Abs surjection; prints one JSON line.

The models are `tfp_flows.models.SurVAEFlow`s, those of the SurVAE toy
study's `flow` and `abs_learned` kinds: (affine coupling with an MLP of
5 x 64, Householder) x 10 on N(0, I_2), and the same flow under Abs with a
learned q and a softplus. One step = `log_prob` of a batch, its gradient and an Adam
update, inside one `tf.function`; the median of `--repeats` timed steps after
two warm-up steps, in milliseconds, and the one-time trace + first-call cost.

Usage: `python benchmarks/surjections.py [--batch 128] [--repeats 30]`.
"""
import argparse
import json
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tensorflow_probability as tfp  # noqa: E402

from tfp_flows import layers  # noqa: E402
from tfp_flows.models import SurVAEFlow  # noqa: E402


def build(kind):
  """The toy study's `flow` or `abs_learned` model (data side first)."""
  flow = []
  for i in range(10):
    flow += [layers.AffineCoupling(2, num_masked=1, hidden=(64,) * 5), layers.Householder(2, seed=i)]
  if kind == "flow":
    return SurVAEFlow(flow, latent_shape=(2,))
  return SurVAEFlow([layers.Abs(2), tfp.bijectors.Softplus()] + flow, latent_shape=(2,))


def step_times(kind, batch, repeats):
  """`(median step ms, first-call seconds)` of one Adam step of the `kind` model."""
  keras.utils.set_random_seed(0)
  model = build(kind)
  optimizer = keras.optimizers.Adam(1e-3)
  optimizer.build(model.trainable_variables)
  x = tf.random.stateless_normal([batch, 2], seed=[1, 2])

  @tf.function
  def step(x):
    with tf.GradientTape() as tape:
      loss = -tf.reduce_mean(model.distribution().log_prob(x))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss

  start = time.perf_counter()
  step(x).numpy()
  first = time.perf_counter() - start
  step(x).numpy()
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    step(x).numpy()
    times.append(time.perf_counter() - start)
  return 1e3 * float(np.median(times)), first


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batch", type=int, default=128)
  parser.add_argument("--repeats", type=int, default=30)
  args = parser.parse_args()
  result = {"benchmark": "surjections", "batch": args.batch, "repeats": args.repeats,
            "device": "GPU" if tf.config.list_physical_devices("GPU") else "CPU",
            "cpus": os.cpu_count(), "platform": platform.platform()}
  for kind in ("flow", "abs_learned"):
    ms, first = step_times(kind, args.batch, args.repeats)
    result[f"{kind}_step_ms"] = round(ms, 2)
    result[f"{kind}_first_call_s"] = round(first, 1)
  result["abs_overhead_pct"] = round(
      100 * (result["abs_learned_step_ms"] / result["flow_step_ms"] - 1), 1)
  print(json.dumps(result))


if __name__ == "__main__":
  main()
