"""The study runner: one way to validate, run, resume and record every study, in-process or on Dask.

A study is a module of `experiments/` (named in `experiments.STUDIES`) defining
`STUDY = runner.Study(...)`:

* `name` (str) and `presets` (dict preset name -> JSON-safe settings; quick | cpu | paper);
* `add_arguments(parser)`: the study's own options (the runner adds `--preset`, `--out`,
  `--workers`, `--scheduler` and `--verbose`); options several studies share are declared
  by `experiments.options` (`add_seed`, `add_names`, `add_count`);
* `configure(args, preset) -> dict`: validates the study's options with the runner's checks
  (ValueError naming the option, the value and what was expected) and returns the run config
  (JSON-safe), before any work;
* `tasks(config) -> list[str]`: the task keys, e.g. `"planar-8/U1"` (letters, digits,
  `._=+-`, parts joined by `/`);
* `depends(key, config) -> list[str]` (optional): tasks whose results this task needs;
* `group(keys, config) -> list[tuple[str, list[str]]]` (optional): runs several pending tasks
  as ONE unit (name, member keys), e.g. K iFlow seeds trained as one stacked model; the unit
  is then what `run_task` receives, and it returns `{member key: result}`;
* `run_task(key, config, ctx) -> dict`: trains/evaluates one task (or unit), returns a
  JSON-safe result dict, writes files only under `ctx.folder` / `ctx.folder_of(member)`;
* `report(out, results) -> str`: writes `results.md` and figures from the results dict,
  returns the markdown; raises ValueError naming what is missing (it starts with
  `runner.report_inputs`, the check of the finished tasks and config, and draws with
  `runner.pyplot()`);
* `migrate(results) -> dict | None` (optional): converts an older `results.json` layout of
  the study into this one (None: nothing to convert);
* `tensorflow` (default True): its tasks use TensorFlow, which each worker then imports first
  through `quiet_tensorflow`.

`ctx` (`TaskContext`) gives `ctx.folder` (`--out/tasks/<key>`, created), `ctx.verbose`,
`ctx.callbacks()` (`TaskBackup`, which resumes a rerun task's `fit` from its last backup, an
epoch's end at most once a minute and the last, kept until the task's result is recorded; TensorBoard under `--out/tensorboard/<key>`; and `FiniteGuard`, the one
non-finite-loss handler: it stops `fit` and restores the last finite weights), `ctx.nonfinite`
(None, or why the guard stopped the fit), `ctx.inputs` (key -> recorded result of each task
in `depends`), `ctx.members` and `ctx.folder_of(key)`.

The runner validates everything before any task folder exists (`configure` uses the checks
of `experiments.options`: `positive_int`, `seed`, `integer`, `number`, `choices`), skips
finished tasks, runs the rest in-process (`--workers 1`), on a `dask.distributed.LocalCluster`
of N single-threaded worker processes (`--workers N`; TensorFlow in each gets cpu_count // N
threads) or on an existing Dask cluster (`--scheduler ADDRESS`; both in
`experiments.dask_backend`), shows one progress bar over tasks, and alone writes `--out/results.json`
(`experiments.records`):
`{"study", "preset", "config", "tasks": {key: result + {"nonfinite", "task_seconds"}}}`,
merged under a `filelock.FileLock` (re-read, update, atomic replace) after every task, so
two clients on one `--out` keep each other's results. A rerun into an `--out` must use its
recorded settings, except the keys in `SELECTING_KEYS` (which tasks, their grouping, data
folders). See docs/distributed.md.

Modules: this one (the contract, validation, planning, the in-process path, the CLI's
`reproduce` and `report`); `experiments.task` (`TaskContext`, `execute`: what runs one unit,
here or on a worker); `experiments.dask_backend`; `experiments.options`; `experiments.records`.
This module re-exports the names studies use (`runner.TaskContext`, `runner.choices`, ...).
"""
import argparse
import importlib
import json
import os
import re
import shutil

from experiments.options import (  # noqa: F401 -- part of the runner's API
    add_count, add_names, add_seed, choices, integer, number, override_count, positive_int, seed)
from experiments.records import (  # noqa: F401 -- part of the runner's API
    pyplot, read_results, record, report_inputs, results_path, warn_cache, write_json)
from experiments.task import (  # noqa: F401 -- part of the runner's API
    TaskContext, execute, quiet_tensorflow, task_folder)

KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=+-]*(/[A-Za-z0-9][A-Za-z0-9._=+-]*)*$")


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
  needs = {key: set(study.depends(key, config)) - set(finished) for key in keys}
  for key, deps in needs.items():
    if deps - set(keys):
      raise ValueError(f"task {key!r} depends on {sorted(deps - set(keys))}, not tasks of this "
                       "run nor finished.")
  while needs:  # Kahn: peel off tasks whose dependencies are met; a rest is a cycle
    free = {k for k, deps in needs.items() if not deps & set(needs)}
    if not free:
      raise ValueError(f"tasks {sorted(needs)} of study {study.name!r} depend on each other.")
    needs = {k: deps for k, deps in needs.items() if k not in free}
  pending = [k for k in keys if k not in finished]
  units = list(study.group(pending, config))
  covered = sorted(m for _, members in units for m in members)
  if covered != sorted(pending):
    raise ValueError(f"group() of study {study.name!r} must cover each pending task once.")
  return units


DEFAULT_WORKERS = 1  # measured faster for paper-size groups: docs/benchmarks.md, "Study runner"


def _parser(study):
  parser = argparse.ArgumentParser(prog=f"tfp-flows reproduce {study.name}")
  parser.add_argument("--preset", default="quick", help=f"one of {sorted(study.presets)}")
  parser.add_argument("--out", default=os.path.join("runs", study.name))
  parser.add_argument("--workers", default=DEFAULT_WORKERS,
                      help="Dask LocalCluster of N single-threaded processes (1: in-process)")
  parser.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler")
  parser.add_argument("--verbose", default=0, help="Keras fit verbosity of each task: 0, 1 or 2")
  study.add_arguments(parser)
  return parser


# Config keys that only choose which tasks run, how they are grouped, or where inputs are read:
# a rerun into an `--out` may change them. Any other difference would put results of two
# settings in one table (finished tasks are skipped, not redone).
SELECTING_KEYS = frozenset({"models", "seeds", "targets", "variants", "parallel", "data_dir",
                            "mnist_dir"})


def _check_same_settings(out, recorded, config):
  """Raises ValueError naming each setting of `config` that differs from `out`'s recorded one.

  Keys in `SELECTING_KEYS` and keys only one side has (a setting added to the code since) are
  not compared.
  """
  changed = sorted(k for k in recorded.keys() & config.keys()
                   if k not in SELECTING_KEYS and recorded[k] != config[k])
  if changed:
    diffs = "; ".join(f"{k}: {recorded[k]!r} there, {config[k]!r} now" for k in changed)
    raise ValueError(f"{results_path(out)} holds results made with other settings ({diffs}): "
                     "a rerun skips finished tasks, so the table would mix both. Use another "
                     "--out, or the recorded settings to resume.")


def prepare(study, argv):
  """Parses and validates everything before any work: `(args, config, results, units)`.

  Raises:
    ValueError: for any bad option, a broken `results.json`, or an `--out` holding another
      study's or another preset's results, or results made with other settings (a differing
      config key outside `SELECTING_KEYS`).
  """
  args = _parser(study).parse_args(argv)
  if args.preset not in study.presets:
    raise ValueError(f"--preset: unknown {args.preset!r}; expected one of "
                     f"{sorted(study.presets)}.")
  args.workers = positive_int("--workers", args.workers)
  args.verbose = integer("--verbose", args.verbose, 0, 2)
  if args.scheduler and args.workers != 1:
    raise ValueError("--scheduler and --workers exclude each other: the cluster at "
                     f"{args.scheduler} has its own workers.")
  config = study.configure(args, dict(study.presets[args.preset]))
  json.dumps(config)
  results = read_results(args.out, study)
  if results is not None and results["preset"] != args.preset:
    raise ValueError(f"{results_path(args.out)} holds results of preset {results['preset']!r}; "
                     f"use another --out for preset {args.preset!r}.")
  if results is not None:
    _check_same_settings(args.out, results.get("config") or {},
                         json.loads(json.dumps(config)))  # as results.json will hold it
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
      shutil.rmtree(os.path.join(task_folder(out, unit), "backup"), ignore_errors=True)
      done.update(records)
      for key, r in records.items():
        if r.get("nonfinite"):
          print(f"\n[{key}] {r['nonfinite']}; going on.", flush=True)
    bar.add(1)

  if args.scheduler is None and args.workers == 1:
    _run_here(study, args, out, config, ready, inputs, finish)
  else:
    from experiments import dask_backend

    dask_backend.run_units(study, args, out, config, ready, inputs, finish)
  if failures or waiting:
    names = [u for u, _ in failures] + [u for u, _ in waiting]
    raise RuntimeError(f"{len(names)} tasks did not finish: {names}") from (
        failures[0][1] if failures else None)


def _run_here(study, args, out, config, ready, inputs, finish):
  """`--workers 1`: runs the units one after the other in this process (as `dask_backend.run_units`)."""
  while batch := ready():
    for unit, members in batch:
      try:
        finish(unit, execute(study.module, unit, members, config, out, args.verbose,
                             inputs(members), study.tensorflow))
      except Exception as e:  # noqa: BLE001 -- recorded; the other tasks go on
        finish(unit, None, e)


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
