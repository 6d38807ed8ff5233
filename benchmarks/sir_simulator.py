"""Times simulating SIR series: the vectorised TF simulator against a Python loop over parameters.

Both draw the same number of series (Euler step 0.1, 100 days, Poisson counts).
The loop is the straightforward implementation: for each parameter, a scalar
Python Euler loop and `numpy.random.poisson`. The vectorised run is timed after
one warm-up call (tracing excluded). Prints JSON with the `os.getloadavg()` load
average.

Usage: PYTHONPATH=$PWD nice -n 10 python benchmarks/sir_simulator.py [--num 10000]
"""
import argparse
import json
import os
import time

import numpy as np
import tensorflow as tf

from tfp_flows.simulators import SIR


def loop_simulate(task, theta, rng):
  """One series per parameter row with a scalar Python Euler loop (basic variant)."""
  out = np.empty((len(theta), task.days, 2))
  for n, (lam, mu) in enumerate(theta):
    s, i = 1 - task.initial_infected, task.initial_infected
    for d in range(task.days):
      new_inf = new_rem = 0.0
      for _ in range(task.steps_per_day):
        inf, rem = lam * s * i * task.dt, mu * i * task.dt
        s, i = s - inf, i + inf - rem
        new_inf, new_rem = new_inf + inf, new_rem + rem
      out[n, d] = new_inf, new_rem
  return rng.poisson(task.population * np.maximum(out, 1e-12))


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--num", type=int, default=10000, help="number of series")
  args = parser.parse_args(argv)
  if args.num < 1:
    parser.error(f"--num must be >= 1, got {args.num}")
  task = SIR("basic")
  theta = task.prior().sample(args.num, seed=0)
  task.simulate(theta[:2], seed=1)  # trace once
  start = time.perf_counter()
  x_vec = task.simulate(theta, seed=1).numpy()
  vectorised = time.perf_counter() - start
  start = time.perf_counter()
  x_loop = loop_simulate(task, theta.numpy().astype(float), np.random.default_rng(1))
  loop = time.perf_counter() - start
  mean_gap = float(np.abs(x_vec.mean(0) - x_loop.mean(0)).max())
  print(json.dumps({
    "benchmark": "sir_simulator", "num_series": args.num, "days": task.days, "dt": task.dt,
    "vectorised_seconds": round(vectorised, 3), "python_loop_seconds": round(loop, 3),
    "speedup": round(loop / vectorised, 1),
    "max_gap_of_mean_counts": round(mean_gap, 3),
    "load_average": [round(v, 2) for v in os.getloadavg()], "cpu_count": os.cpu_count()}))


if __name__ == "__main__":
  main()
