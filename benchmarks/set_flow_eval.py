"""Times PermuteFlow's importance-weighted test evaluation: one traced function for all batches vs one per batch.

`SetFlow.log_likelihood` evaluates the test sets in batches. Until session 6 it called
`tfp_flows.metrics.log_likelihood` eagerly per batch, which wraps its k passes in a new
`tf.function` on every call, so every batch was traced again (TensorFlow's retracing warning in
the spatial-mnist cpu run). Now the model keeps one `tf.function` per `num_samples` that serves
every batch. This script times both on the same model and sets: PermuteFlow at the cpu preset's
sizes (`experiments/spatial_mnist.py`, initial weights: the time does not depend on training),
`--sets` random sets of 50 points, batches of 500, k = `--k`. Each repeat times the two in
turn (the per-batch path first), each on a fresh model of the same weights, so both pay
their first trace; the load average before and after is printed with the JSON.

Usage: `python benchmarks/set_flow_eval.py [--sets 2000] [--k 8] [--repeats 3]`.
"""
import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from experiments.spatial_mnist import PRESETS, build_model  # noqa: E402
from tfp_flows.metrics import log_likelihood  # noqa: E402
from machine_info import machine_info  # noqa: E402


def _per_batch(model, x, k, batch_size=500):
  """The evaluation before session 6: `metrics.log_likelihood` eagerly per batch."""
  dist = model.distribution()
  return np.concatenate([
      log_likelihood(dist, tf.constant(x[i:i + batch_size]), num_samples=k,
                     chunk_size=min(k, 10)).numpy() for i in range(0, len(x), batch_size)])


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--sets", type=int, default=2000)
  parser.add_argument("--k", type=int, default=8)
  parser.add_argument("--repeats", type=int, default=3)
  args = parser.parse_args(argv)
  x = np.random.default_rng(0).uniform(0, 28, size=(args.sets, 50, 2)).astype("float32")
  keras.utils.set_random_seed(0)
  weights = None
  load_before = os.getloadavg()
  times = {"traced_per_batch": [], "one_trace": []}
  values = {}
  for _ in range(args.repeats):
    for key in times:
      model = build_model("permute_flow", PRESETS["cpu"])
      model(x[:2])
      weights = weights or model.get_weights()
      model.set_weights(weights)
      start = time.perf_counter()
      values[key] = (_per_batch(model, x, args.k) if key == "traced_per_batch"
                     else model.log_likelihood(x, num_samples=args.k))
      times[key].append(time.perf_counter() - start)
  result = {
      "what": f"PermuteFlow IW log-likelihood of {args.sets} sets [50, 2], k={args.k}, batches of 500",
      "seconds": times, "median_seconds": {k: float(np.median(t)) for k, t in times.items()},
      "max_abs_difference_nats": float(np.max(np.abs(values["one_trace"]
                                                     - values["traced_per_batch"]))),
      **machine_info(load_before),
  }
  print(json.dumps(result, indent=1))
  return result


if __name__ == "__main__":
  main()
