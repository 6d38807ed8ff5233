"""The runner's Dask execution path: `--workers N` (a `LocalCluster`) or `--scheduler ADDRESS`.

Part of `experiments.runner` (which calls `run_units` for anything but `--workers 1`); see its
docstring and docs/distributed.md. Each unit runs `experiments.task.execute` on a worker; its
result comes back to this client, which alone records it. A worker that dies mid-task is
Dask's to handle: the scheduler reruns the task on a live worker.
"""
import os

from experiments.task import execute


def local_cluster(workers):
  """A `dask.distributed.LocalCluster` of `workers` single-threaded worker processes.

  TensorFlow in each worker gets `cpu_count // workers` intra- and inter-op threads (through
  `TF_NUM_INTRAOP_THREADS`, `TF_NUM_INTEROP_THREADS`, `OMP_NUM_THREADS`); `TF_CPP_MIN_LOG_LEVEL`
  is passed on if set. No dashboard.
  """
  from dask import distributed

  threads = str(max(1, (os.cpu_count() or 1) // workers))
  return distributed.LocalCluster(
      n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
      env={"TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": threads,
           "OMP_NUM_THREADS": threads, **{k: v for k, v in os.environ.items()
                                          if k == "TF_CPP_MIN_LOG_LEVEL"}})


def run_units(study, args, out, config, ready, inputs, finish):
  """Runs units on Dask as their dependencies finish, handing each outcome to `finish`.

  Args:
    study: the `runner.Study`; its `module` is what workers import.
    args: the parsed options (`scheduler`, `workers`, `verbose`).
    out: the absolute `--out`.
    config: the run config.
    ready: `() -> [(unit, members)]`, the waiting units whose dependencies are recorded (each
      returned once).
    inputs: `members -> {key: result}`, the recorded results those members depend on.
    finish: `(unit, records, error=None)`, records a unit's results or its error.

  A task that raises is handed to `finish` with its error; the other tasks go on. The client
  (and the `LocalCluster`, if this started one) is closed on the way out.
  """
  from dask import distributed

  cluster = None if args.scheduler else local_cluster(args.workers)
  client = distributed.Client(args.scheduler or cluster)
  try:
    futures = distributed.as_completed()
    names = {}

    def submit():
      for unit, members in ready():
        future = client.submit(execute, study.module, unit, members, config, out, args.verbose,
                               inputs(members), study.tensorflow, key=f"{study.name}:{unit}",
                               pure=False)
        names[future.key] = unit
        futures.add(future)

    submit()
    for future in futures:
      unit = names[future.key]
      try:
        finish(unit, future.result())
      except Exception as e:  # noqa: BLE001 -- recorded; the other tasks go on
        finish(unit, None, e)
      submit()
  finally:
    client.close()
    if cluster is not None:
      cluster.close()
