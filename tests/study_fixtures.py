"""A study whose tasks test the runner's machinery on Dask: one kills its own worker process
the first time it runs (a marker file tells), the others return their key's number and PID."""
import os
import time

from experiments import runner


def _configure(args, preset):
  return dict(preset, count=runner.positive_int("--count", args.count))


def _add_arguments(parser):
  parser.add_argument("--count", default="4")


def _run_task(key, config, ctx):
  number = int(key.split("/")[1])
  marker = os.path.join(ctx.out, "killed-once")
  if number == config["kill"] and not os.path.exists(marker):
    open(marker, "w").close()
    os._exit(1)  # the worker process dies mid-task, as on a lost node
  with open(os.path.join(ctx.folder, "ran"), "a") as f:
    f.write(f"{os.getpid()}\n")
  return dict(number=number, pid=os.getpid())


def _report(out, results):
  return f"{len(results['tasks'])} tasks"


STUDY = runner.Study("fixture", {"quick": dict(kill=2)}, _configure,
                     lambda config: [f"n/{i}" for i in range(1, config["count"] + 1)],
                     _run_task, _report, add_arguments=_add_arguments, tensorflow=False)
STUDY.module = __name__


def record_many(out, first, start_at, count=25):
  """One client: from time `start_at` on, records tasks n/<first> .. one at a time."""
  time.sleep(max(0.0, start_at - time.time()))
  for i in range(first, first + count):
    runner.record(out, STUDY, "quick", {}, {f"n/{i}": {"number": i}})
