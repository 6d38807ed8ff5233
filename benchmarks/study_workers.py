"""Times iFlow studies run by one process against `--workers 2` (a Dask LocalCluster), interleaved.

Side by side, alternating the two ways (`rounds` times each), every run a fresh process on a
fresh `--out`, so no traced step or dataset is shared:
  (a) `quick`: `tfp-flows reproduce iflow --preset quick` (3 models x 2 seeds + the visual
      case), with the default `--parallel auto`;
  (b) `group`: one paper-size stacked group: the paper's iFlow (10 spline steps, 256 hidden
      units) on the paper's data shape but 200 points per segment, `iterations` updates, K
      seeds. One process trains the K seeds as one K-stacked model (`--parallel K`, TF using
      every core); `--workers 2` trains two K/2-stacked groups, one per worker (TF with
      cpu_count // 2 threads each).
Wall seconds include start-up, tracing and evaluation: what a user waits for. Prints one JSON
object with the medians, every time, and `os.getloadavg()` before and after.

Usage: python benchmarks/study_workers.py [--rounds 1] [--iterations 250] [--k 4]
       [--cases quick,group]
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def child(argv):
  """The measured process: defines the `group` preset (if asked) and runs the iflow study."""
  from experiments import runner

  runner.quiet_tensorflow()  # before the study imports TensorFlow
  from experiments import iflow

  paper = iflow.PRESETS["paper"]
  iflow.PRESETS["group"] = dict(paper, iterations=int(os.environ["BENCH_ITERATIONS"]),
                                data=dict(paper["data"], n_per_segment=200))
  runner.run(runner.load_study("iflow"), argv)


def timed(argv):
  """Wall seconds of one `child(argv)` in a fresh process, its output discarded."""
  start = time.time()
  subprocess.run([sys.executable, __file__, "--child", *argv], check=True, cwd=HERE,
                 stdout=subprocess.DEVNULL, env=dict(os.environ, PYTHONPATH=HERE))
  return time.time() - start


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--rounds", type=int, default=1)
  parser.add_argument("--iterations", type=int, default=250)
  parser.add_argument("--k", type=int, default=4, help="seeds of the paper-size group (even)")
  parser.add_argument("--cases", default="quick,group")
  args = parser.parse_args()
  load_before = os.getloadavg()
  os.environ["BENCH_ITERATIONS"] = str(args.iterations)
  cases = {
      "quick": {"1 process": ["--preset", "quick"],
                "--workers 2": ["--preset", "quick", "--workers", "2"]},
      "group": {"1 process": ["--preset", "group", "--models", "iflow", "--seeds",
                              f"1-{args.k}", "--parallel", str(args.k)],
                "--workers 2": ["--preset", "group", "--models", "iflow", "--seeds",
                                f"1-{args.k}", "--parallel", str(args.k // 2), "--workers", "2"]},
  }
  times = {c: {way: [] for way in cases[c]} for c in args.cases.split(",")}
  for _ in range(args.rounds):
    for case, ways in times.items():
      for way in ways:  # interleaved: each round runs both ways of each case
        with tempfile.TemporaryDirectory() as out:
          ways[way].append(timed([*cases[case][way], "--out", out]))
  median = lambda v: sorted(v)[len(v) // 2]
  print(json.dumps({
      "benchmark": "study_workers", "machine": platform.machine(), "cpus": os.cpu_count(),
      "rounds": args.rounds, "group": {"k": args.k, "iterations": args.iterations,
                                       "n_per_segment": 200},
      "wall_seconds": times,
      "median_seconds": {c: {w: round(median(v), 1) for w, v in ways.items()}
                         for c, ways in times.items()},
      "loadavg_before": load_before, "loadavg_after": os.getloadavg()}))


if __name__ == "__main__":
  if sys.argv[1:2] == ["--child"]:
    child(sys.argv[2:])
  else:
    main()
