"""How far the overlapping max-pool's exp(log_prob) is from a density: its Monte Carlo mass; prints JSON.

Case of issue 12: x `[3, 3, 1]`, 2x2 windows, stride 1, z `[2, 2, 1]` ~ N(0, I),
unit half-normal (and exponential) gaps. Beside it, as a control of the
estimator, the exact non-overlapping `MaxPool2D` on x `[2, 4, 1]` (z `[1, 2, 1]`),
whose mass must be 1 within the error. A density integrates to 1; the
difference is the approximation error of the overlapping layer.

Usage: `python benchmarks/maxpool_overlap_mass.py [--samples 2000000] [--seed 0]`.
"""
import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402
import tensorflow_probability as tfp  # noqa: E402

from tfp_flows.metrics.mass import monte_carlo_mass  # noqa: E402
from tfp_flows.layers.surjections.maxpool import MaxPool2D  # noqa: E402
from tfp_flows.surjections.maxpool_overlap import OverlappingMaxPoolDistribution  # noqa: E402

tfd = tfp.distributions


def normal(shape):
  return tfd.Sample(tfd.Normal(tf.constant(0.0, tf.float64), 1.0), shape)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--samples", type=int, default=2_000_000)
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args()
  cases = {f"overlap_3x3_pool2_stride1_{gap}": OverlappingMaxPoolDistribution(
      normal([2, 2, 1]), (3, 3, 1), 2, 1, tf.ones([1], tf.float64), gap=gap)
      for gap in ("half_normal", "exponential")}
  cases["exact_maxpool_2x4_pool2_control"] = MaxPool2D((2, 4, 1), 2, dtype="float64").distribution(
      normal([1, 2, 1]))
  results = {}
  for name, dist in cases.items():
    start = time.perf_counter()
    mass, error = monte_carlo_mass(dist, num_samples=args.samples, seed=args.seed)
    results[name] = {"mass": mass, "standard_error": error,
                     "seconds": round(time.perf_counter() - start, 1)}
  print(json.dumps({"samples": args.samples, "seed": args.seed,
                    "load_average": os.getloadavg(), "results": results}, indent=1))


if __name__ == "__main__":
  main()
