"""The `results.json` every study keeps in its `--out` folder: load, atomic save, preset check."""
import json
import os


def check_preset(name, presets):
  """Returns `presets[name]`, or raises a ValueError naming the choices."""
  if name not in presets:
    raise ValueError(f"unknown preset {name!r}: expected one of {sorted(presets)}.")
  return presets[name]


def start(args, presets, study):
  """The common start of a study's `run`: preset (with `--iterations` applied) and its results.

  Args:
    args: parsed options with `preset`, `out` and `iterations` (None: the preset's).
    presets: the study's dict of presets.
    study: the study's name, as in `results.json`.

  Returns:
    `(preset, results)`: a copy of the preset, and `load(args.out, study)` updated with the
    preset's name and settings.

  Raises:
    ValueError: for an unknown preset, or an `--out` holding another study's results.
  """
  preset = dict(check_preset(args.preset, presets))
  if args.iterations:
    preset["iterations"] = args.iterations
  results = load(args.out, study)
  results.update(preset=args.preset, settings=preset)
  return preset, results


def load(out, study):
  """The study's results in `out` (`{"study": study, "runs": {}}` if none yet).

  Raises:
    ValueError: if `out/results.json` belongs to another study.
  """
  path = os.path.join(out, "results.json")
  if not os.path.exists(path):
    return {"study": study, "runs": {}}
  with open(path) as f:
    results = json.load(f)
  if results.get("study") != study:
    raise ValueError(f"{path} holds results of study {results.get('study')!r}, not {study!r}; "
                     "use another --out.")
  return results


def save(out, results):
  """Writes `out/results.json` atomically, so an interrupted run never leaves a broken file."""
  os.makedirs(out, exist_ok=True)
  write_json(os.path.join(out, "results.json"), results)


def write_json(path, value):
  """Writes `value` as JSON to `path` through a temporary file, so a reader never sees half."""
  with open(path + ".tmp", "w") as f:
    json.dump(value, f, indent=1)
  os.replace(path + ".tmp", path)
