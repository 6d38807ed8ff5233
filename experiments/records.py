"""`results.json` of a study's `--out` (read, check, migrate, locked merge), task caches, and
the start of every study's `report` (`pyplot`, `report_inputs`).

Part of `experiments.runner` (which re-exports these names); see its docstring.
"""
import json
import os
import shutil
import warnings

import filelock


def results_path(out):
  """`out/results.json`."""
  return os.path.join(out, "results.json")


def read_results(out, study=None):
  """The dict in `out/results.json` (None if there is none), checked and migrated.

  Args:
    out: the study's folder.
    study: the `Study` the file must belong to (None: any study, and neither migration nor
      the check of `preset` and `tasks`).

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
    raise ValueError(f"{path} is broken (not readable JSON: {e}); move it away or repair it."
                     ) from None
  if not isinstance(results, dict) or "study" not in results:
    raise ValueError(f"{path} is broken: expected a JSON object with a 'study' field.")
  if study is not None:
    if results["study"] != study.name:
      raise ValueError(f"{path} holds results of study {results['study']!r}, not "
                       f"{study.name!r}; use another --out.")
    results = study.migrate(results) or results
    for field in ("preset", "tasks"):  # checked once migrated (an older layout has no tasks)
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


def warn_cache(path, problem):
  """The warning for a broken cache file of a task (`path`): it restarts from scratch."""
  warnings.warn(f"{path} is broken ({problem}); restarting this task from scratch.",
                RuntimeWarning, stacklevel=2)


def pyplot():
  """`matplotlib.pyplot` on the Agg backend (files only, no display), imported on first use.

  Every study's report draws through it, so a worker that only trains never loads matplotlib.
  """
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  return plt


def report_inputs(out, results, what, keep=None, config_keys=()):
  """The finished tasks and the config a study's `report` needs, checked before any drawing.

  Args:
    out: the study's folder (its `results.json` is named in the error).
    results: the runner's results dict (`study`, `preset`, `tasks`, `config`).
    what: the tasks the report needs, in words, for the error, e.g. `"energy task"`.
    keep: `(key, result) -> bool` choosing the tasks the report reads (None: all).
    config_keys: fields the config must hold (the config itself is always required).

  Returns:
    `(tasks, config)`: `{key: result}` of the kept tasks (in the order of `results`), the config.

  Raises:
    ValueError: naming `results.json`, if no task is kept, or the config or one of
      `config_keys` is missing, e.g. `runs/energy/results.json has no finished energy task:
      nothing to report; run `tfp-flows reproduce energy` first.`
  """
  tasks = {k: v for k, v in results.get("tasks", {}).items() if keep is None or keep(k, v)}
  config = results.get("config")
  if not tasks:
    raise ValueError(f"{results_path(out)} has no finished {what}: nothing to report; run "
                     f"`tfp-flows reproduce {results.get('study')}` first.")
  missing = [k for k in config_keys if config.get(k) is None] if config is not None else None
  if missing is None or missing:
    field = f" field {missing[0]!r}" if missing else ""
    raise ValueError(f"{results_path(out)} lacks the config{field} of its {what}s: nothing to "
                     "report.")
  return tasks, config
