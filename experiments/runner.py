"""The study runner: one way to validate, run, resume and record every study, in-process or on Dask.

A study is a module of `experiments/` (named in `experiments.STUDIES`) defining
`STUDY = runner.Study(...)`:

* `name` (str) and `presets` (dict preset name -> JSON-safe settings; quick | cpu | paper);
* `add_arguments(parser)`: the study's own options (the runner adds `--preset`, `--out`,
  `--workers`, `--scheduler` and `--verbose`);
* `configure(args, preset) -> dict`: validates the study's options (ValueError naming the
  option, the value and what was expected) and returns the run config (JSON-safe), before
  any work;
* `tasks(config) -> list[str]`: the task keys, e.g. `"planar-8/U1"` (letters, digits,
  `._=+-`, parts joined by `/`);
* `depends(key, config) -> list[str]` (optional): tasks whose results this task needs;
* `group(keys, config) -> list[tuple[str, list[str]]]` (optional): runs several pending tasks
  as ONE unit (name, member keys), e.g. K iFlow seeds trained as one stacked model; the unit
  is then what `run_task` receives, and it returns `{member key: result}`;
* `run_task(key, config, ctx) -> dict`: trains/evaluates one task (or unit), returns a
  JSON-safe result dict, writes files only under `ctx.folder` / `ctx.folder_of(member)`;
* `report(out, results) -> str`: writes `results.md` and figures from the results dict,
  returns the markdown; raises ValueError naming what is missing;
* `migrate(results) -> dict | None` (optional): converts an older `results.json` layout of
  the study into this one (None: nothing to convert);
* `tensorflow` (default True): its tasks use TensorFlow, which each worker then imports first
  through `quiet_tensorflow`.

`ctx` (`TaskContext`) gives `ctx.folder` (`--out/tasks/<key>`, created), `ctx.verbose`,
`ctx.callbacks()` (TensorBoard under `--out/tensorboard/<key>` and `FiniteGuard`, the one
non-finite-loss handler: it stops `fit` and restores the last finite weights), `ctx.nonfinite`
(None, or why the guard stopped the fit), `ctx.inputs` (key -> recorded result of each task
in `depends`), `ctx.members` and `ctx.folder_of(key)`.

The runner validates everything before any task folder exists, skips finished tasks, runs the
rest in-process (`--workers 1`), on a `dask.distributed.LocalCluster` of N single-threaded
worker processes (`--workers N`) or on an existing Dask cluster (`--scheduler ADDRESS`), shows
one progress bar over tasks, and alone writes `--out/results.json`:
`{"study", "preset", "config", "tasks": {key: result + {"nonfinite", "task_seconds"}}}`,
merged under a `filelock.FileLock` (re-read, update, atomic replace) after every task, so
two clients on one `--out` keep each other's results. See docs/distributed.md.
"""
import argparse
import importlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import warnings

import filelock

KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=+-]*(/[A-Za-z0-9][A-Za-z0-9._=+-]*)*$")
# Lines TensorFlow and CUDA write to stderr on a machine without a GPU; anything else shows.
NOISE = re.compile(r"All log messages before absl::InitializeLog|port\.cc:\d+\] oneDNN|"
                   r"cudart_stub\.cc|failed call to cuInit|cpu_feature_guard\.cc|"
                   r"^To enable the following instructions|Unable to register cu(DNN|FFT|BLAS)|"
                   r"computation_placer\.cc")


class Study:
  """A study as the runner sees it (see the module docstring for each argument)."""

  def __init__(self, name, presets, configure, tasks, run_task, report, add_arguments=None,
               depends=None, group=None, migrate=None, tensorflow=True):
    self.name, self.presets, self.tensorflow = name, presets, tensorflow
    self.configure, self.tasks, self.run_task, self.report = configure, tasks, run_task, report
    self.add_arguments = add_arguments or (lambda parser: None)
    self.depends = depends or (lambda key, config: [])
    self.group = group or (lambda keys, config: [(k, [k]) for k in keys])
    self.migrate = migrate or (lambda results: None)
    self.module = None  # set by `load_study`: the module workers import


def load_study(name):
  """The `Study` of the study named `name` in `experiments.STUDIES` (ValueError if unknown)."""
  from experiments import STUDIES

  if name not in STUDIES:
    raise ValueError(f"unknown study {name!r}: expected one of {sorted(STUDIES)}.")
  study = importlib.import_module(STUDIES[name]).STUDY
  study.module = STUDIES[name]
  return study


_QUIET = []  # set once TensorFlow's devices were discovered with the noise filtered


def quiet_tensorflow():
  """Imports TensorFlow and discovers its devices with the CUDA/GPU start-up log lines dropped.

  Sets `TF_CPP_MIN_LOG_LEVEL=1` (no INFO) unless set, and filters what TF writes to the
  stderr file descriptor during import and device discovery (`failed call to cuInit`, the
  absl pre-init notice, oneDNN/CPU-feature notes) through `NOISE`; any other line is passed
  on. Python warnings are untouched. Runs once per process (the CLI and each Dask worker).
  """
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
  if _QUIET:
    return
  _QUIET.append(True)
  sys.stderr.flush()
  saved = os.dup(2)
  with tempfile.TemporaryFile(mode="w+") as tmp:
    os.dup2(tmp.fileno(), 2)
    try:
      import tensorflow as tf

      tf.config.list_physical_devices()
    finally:
      os.dup2(saved, 2)
      os.close(saved)
      tmp.seek(0)
      sys.stderr.write("".join(line for line in tmp if not NOISE.search(line)))


def task_folder(out, key):
  """`out/tasks/<key>`: the folder of one task's files (not created)."""
  return os.path.join(out, "tasks", *key.split("/"))


class TaskContext:
  """What a task gets from the runner: its folders, callbacks, inputs (see the module docstring)."""

  def __init__(self, out, key, members=None, verbose=0, inputs=None):
    self.out, self.key, self.members = out, key, list(members or [key])
    self.verbose, self.inputs, self.nonfinite = verbose, dict(inputs or {}), None

  @property
  def folder(self):
    """`--out/tasks/<key>` of this task (or unit), created on first use."""
    return self.folder_of(self.key)

  def folder_of(self, key):
    """`--out/tasks/<key>`, created."""
    path = task_folder(self.out, key)
    os.makedirs(path, exist_ok=True)
    return path

  def callbacks(self, snapshot="epoch"):
    """`[keras.callbacks.TensorBoard(--out/tensorboard/<key>), FiniteGuard(self, snapshot)]`."""
    import keras

    from experiments.finite_guard import FiniteGuard

    board = keras.callbacks.TensorBoard(os.path.join(self.out, "tensorboard", *self.key.split("/")),
                                        write_graph=False)
    return [board, FiniteGuard(self, snapshot)]


# ----------------------------------------------------------------------------- results.json


def results_path(out):
  return os.path.join(out, "results.json")


def read_results(out, study=None):
  """The dict in `out/results.json` (None if there is none), checked and migrated.

  Args:
    out: the study's folder.
    study: the `Study` the file must belong to (None: any; no migration).

  Raises:
    ValueError: naming the path, if the file is not JSON, not of this study, or lacks
      `study`, `preset` or `tasks`.
  """
  path = results_path(out)
  if not os.path.exists(path):
    return None
  try:
    with open(path) as f:
      results = json.load(f)
  except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
    raise ValueError(f"{path} is broken (not readable JSON: {e}); move it away or repair it.")
  if not isinstance(results, dict) or "study" not in results:
    raise ValueError(f"{path} is broken: expected a JSON object with a 'study' field.")
  if study is not None:
    if results["study"] != study.name:
      raise ValueError(f"{path} holds results of study {results['study']!r}, not "
                       f"{study.name!r}; use another --out.")
    results = study.migrate(results) or results
  for field in ("preset", "tasks"):
    if field not in results:
      raise ValueError(f"{path} is broken: it lacks the {field!r} field.")
  return results


def write_json(path, value):
  """Writes `value` as JSON to `path` through a temporary file, so a reader never sees half."""
  tmp = f"{path}.{os.getpid()}.tmp"
  with open(tmp, "w") as f:
    json.dump(value, f, indent=1)
  os.replace(tmp, path)


def record(out, study, preset, config, records):
  """Merges `records` (key -> result) into `out/results.json` under a file lock; returns it all.

  Re-reads the file inside the lock, so results another client wrote meanwhile stay.

  Raises:
    ValueError: if the file now holds another preset (another client started one).
  """
  os.makedirs(out, exist_ok=True)
  with filelock.FileLock(results_path(out) + ".lock"):
    results = read_results(out, study) or dict(study=study.name, preset=preset, tasks={})
    if results.pop("migrated_from", None):  # keep the file of the older layout beside
      shutil.copyfile(results_path(out), results_path(out)[:-len(".json")] + ".before-runner.json")
    if results["preset"] != preset:
      raise ValueError(f"{results_path(out)} holds preset {results['preset']!r}, not {preset!r}.")
    results["config"] = config
    results["tasks"].update(records)
    write_json(results_path(out), results)
  return results


# ----------------------------------------------------------------------------- running


def execute(module, unit, members, config, out, verbose, inputs, tensorflow=True):
  """Runs one unit of `module`'s study (in this process or on a Dask worker).

  `tensorflow`: import TensorFlow first, through `quiet_tensorflow`.

  Returns:
    dict member key -> result with the runner's fields `nonfinite` (None or the guard's
    message, unless the study set it per member) and `task_seconds`.
  """
  if tensorflow:
    quiet_tensorflow()
  study = importlib.import_module(module).STUDY
  ctx = TaskContext(out, unit, members, verbose, inputs)
  start = time.time()
  result = study.run_task(unit, config, ctx)
  seconds = time.time() - start
  results = result if members != [unit] else {unit: result}
  if sorted(results) != sorted(members):
    raise ValueError(f"task {unit!r} returned results for {sorted(results)}, expected "
                     f"{sorted(members)}.")
  records = {}
  for key, value in results.items():
    value = dict(value)
    value.setdefault("nonfinite", ctx.nonfinite)
    value["task_seconds"] = seconds / len(members)
    json.dumps(value)  # TypeError now, not when results.json is written
    records[key] = value
  return records


def plan(study, config, finished):
  """Checks the task keys and dependencies; returns the pending units `[(name, members)]`.

  Raises:
    ValueError: for a malformed or repeated key, a dependency on an unknown task, or a cycle.
  """
  keys = list(study.tasks(config))
  for key in keys:
    if not isinstance(key, str) or not KEY.match(key) or ".." in key.split("/"):
      raise ValueError(f"task key {key!r} of study {study.name!r} is not of the form "
                       "'part/part' (letters, digits, ._=+-).")
  if len(set(keys)) != len(keys):
    raise ValueError(f"study {study.name!r} lists a task twice: {keys}.")
  for key in keys:
    for dep in study.depends(key, config):
      if dep not in keys and dep not in finished:
        raise ValueError(f"task {key!r} depends on {dep!r}, which is not a task of this run.")
  pending = [k for k in keys if k not in finished]
  units = list(study.group(pending, config))
  covered = sorted(m for _, members in units for m in members)
  if covered != sorted(pending):
    raise ValueError(f"group() of study {study.name!r} must cover each pending task once.")
  return units


def _parser(study, workers_default=1):
  parser = argparse.ArgumentParser(prog=f"tfp-flows reproduce {study.name}")
  parser.add_argument("--preset", default="quick", help=f"one of {sorted(study.presets)}")
  parser.add_argument("--out", default=os.path.join("runs", study.name))
  parser.add_argument("--workers", default=workers_default,
                      help="Dask LocalCluster of N single-threaded processes (1: in-process)")
  parser.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler")
  parser.add_argument("--verbose", type=int, default=0, help="Keras fit verbosity of each task")
  study.add_arguments(parser)
  return parser


def positive_int(option, value):
  """`int(value)` if it is an integer >= 1, else a ValueError naming `option`."""
  try:
    number = int(str(value))
  except ValueError:
    number = 0
  if number < 1:
    raise ValueError(f"{option} must be an integer >= 1, got {value!r}.")
  return number


def seed(option, value):
  """`int(value)` if it is a seed in 0 .. 2**32 - 1 (NumPy's range), else a ValueError naming `option`."""
  try:
    number = int(str(value))
  except ValueError:
    number = -1
  if not 0 <= number <= 2**32 - 1:
    raise ValueError(f"{option}: {value!r} is not a seed in 0 .. 2**32 - 1 = 4294967295.")
  return number


def prepare(study, argv):
  """Parses and validates everything before any work: `(args, config, results, units)`.

  Raises:
    ValueError: for any bad option, a broken `results.json`, or an `--out` holding another
      study's or another preset's results.
  """
  args = _parser(study).parse_args(argv)
  if args.preset not in study.presets:
    raise ValueError(f"--preset: unknown {args.preset!r}; expected one of "
                     f"{sorted(study.presets)}.")
  args.workers = positive_int("--workers", args.workers)
  if args.scheduler and args.workers != 1:
    raise ValueError("--scheduler and --workers exclude each other: the cluster at "
                     f"{args.scheduler} has its own workers.")
  config = study.configure(args, dict(study.presets[args.preset]))
  json.dumps(config)
  results = read_results(args.out, study)
  if results is not None and results["preset"] != args.preset:
    raise ValueError(f"{results_path(args.out)} holds results of preset {results['preset']!r}; "
                     f"use another --out for preset {args.preset!r}.")
  finished = results["tasks"] if results else {}
  return args, config, results, plan(study, config, finished)


def reproduce(name, argv):
  """`tfp-flows reproduce NAME ...`: `run(load_study(NAME), argv)`."""
  return run(load_study(name), argv)


def run(study, argv):
  """Validates `argv`, runs every pending task of `study`, records them, returns its report.

  Args:
    study: a `Study` whose `module` attribute names the module defining it (workers import it).
    argv: the command-line options after `reproduce STUDY`.

  Returns:
    The study's report (markdown).

  Raises:
    ValueError: for a bad option or file, before any task starts.
    RuntimeError: naming the tasks that raised (after every other task ran and was recorded).
  """
  args, config, results, units = prepare(study, argv)
  out = os.path.abspath(args.out)
  if results is not None and results.get("migrated_from"):  # write the new layout
    record(out, study, args.preset, config, {})
  finished = dict(results["tasks"]) if results else {}
  print(f"{study.name}, preset {args.preset}: {len(units)} tasks to run, {len(finished)} "
        "finished" + (f", on {args.scheduler or f'{args.workers} workers'}"
                      if args.scheduler or args.workers > 1 else ""), flush=True)
  if units:
    _run(study, args, out, config, units, finished)
  results = read_results(out, study)
  return study.report(out, results)


def _run(study, args, out, config, units, finished):
  import keras

  bar = keras.utils.Progbar(len(units), unit_name="task")
  failures, done = [], dict(finished)
  waiting = list(units)

  def ready():
    now = [u for u in waiting if all(d in done for m in u[1] for d in study.depends(m, config))]
    for u in now:
      waiting.remove(u)
    return now

  def inputs(members):
    return {d: done[d] for m in members for d in study.depends(m, config)}

  def finish(unit, records, error=None):
    if error is not None:
      failures.append((unit, error))
      print(f"\n[{unit}] failed: {error!r}", flush=True)
    else:
      record(out, study, args.preset, config, records)
      done.update(records)
      for key, r in records.items():
        if r.get("nonfinite"):
          print(f"\n[{key}] {r['nonfinite']}; going on.", flush=True)
    bar.add(1)

  if args.scheduler is None and args.workers == 1:
    while True:
      batch = ready()
      if not batch:
        break
      for unit, members in batch:
        try:
          finish(unit, execute(study.module, unit, members, config, out, args.verbose,
                               inputs(members), study.tensorflow))
        except Exception as e:  # noqa: BLE001 -- recorded; the other tasks go on
          finish(unit, None, e)
  else:
    _run_dask(study, args, out, config, ready, inputs, finish)
  if failures or waiting:
    names = [u for u, _ in failures] + [u for u, _ in waiting]
    raise RuntimeError(f"{len(names)} tasks did not finish: {names}") from (
        failures[0][1] if failures else None)


def _run_dask(study, args, out, config, ready, inputs, finish):
  from dask import distributed

  if args.scheduler:
    client = distributed.Client(args.scheduler)
  else:
    cluster = distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1,
                                       processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
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
    if not args.scheduler:
      cluster.close()


def report(out):
  """`tfp-flows report --out OUT`: the study's report from `OUT/results.json` (markdown).

  Raises:
    ValueError: if there is no `results.json`, or it is broken or of an unknown study.
  """
  raw = read_results(out)
  if raw is None:
    raise ValueError(f"no results.json in {out!r}: run `tfp-flows reproduce` first.")
  study = load_study(raw["study"])
  return study.report(out, read_results(out, study))


def warn_cache(path, problem):
  """The warning for a broken cache file of a task (`path`): it restarts from scratch."""
  warnings.warn(f"{path} is broken ({problem}); restarting this task from scratch.",
                RuntimeWarning, stacklevel=2)
