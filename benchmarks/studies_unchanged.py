"""Are the studies' numbers unchanged by a refactor? Runs each study's quick preset with an old
checkout and with this worktree, side by side, and prints ONE JSON object comparing them.

Usage (from the worktree root; the old code is a read-only checkout, e.g.
`git worktree add --detach /work/base-bd60ba6 bd60ba6`):

    nice -n 10 python benchmarks/studies_unchanged.py --base /work/base-bd60ba6 \
        [--studies energy,survae-toy,iflow,planar-mnist,iaf-mnist] [--work DIR] > out.json
    python benchmarks/studies_unchanged.py --table energy.json iflow.json ...  # merge, table

For each study, one after the other: the old code, then the new, each in a fresh subprocess
`PYTHONPATH=<code> python -m tfp_flows.cli reproduce <study> --preset quick --out <DIR>`
(the CLI is invoked the same way in both versions; `iflow` also gets `--parallel 1` in both,
because its default changed from 1 to `auto`, which stacks the two quick seeds into one model).
Then the results of each run are read: the old layout (before the study runner) is
`{"study", "preset", "settings", "runs": {key: entry}}` (iflow: `runs[part][model][seed]`;
iaf-mnist's 2-D latent study in a top-level `latent2d`), the new one
`{"study", "preset", "config", "tasks": {key: entry}}`. Every numeric leaf of an entry present in
both (timings, whose names hold "seconds", left out) is compared: old, new, `diff` = |new - old|
(lists: their length and largest |diff|). `headline` repeats the study's headline numbers.

The quick presets themselves are compared too (`PRESETS["quick"]` imported from each version):
`preset_same: false` lists the settings that differ, and then the comparison only says that the
study still runs. Per run: wall seconds and `os.getloadavg()` before and after. The subprocesses'
output goes to `<work>/<study>-<version>.log`.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUDIES = ("energy", "survae-toy", "iflow", "planar-mnist", "iaf-mnist")
MODULES = {"energy": "energy", "survae-toy": "survae_toy", "iflow": "iflow",
           "planar-mnist": "planar_mnist", "iaf-mnist": "iaf_mnist"}
EXTRA = {"iflow": ["--parallel", "1"]}
HEADLINE = {  # field names of each study's headline numbers (nats unless MCC)
    "energy": ("kl", "mass_outside_box"),
    "survae-toy": ("test_log_likelihood", "marginal_test_log_likelihood", "subset_elbo",
                   "sample_radius_error"),
    "iflow": ("mcc", "mcc_posterior_sample"),
    "planar-mnist": ("elbo", "log_likelihood"),
    "iaf-mnist": ("elbo", "log_likelihood"),
}


def _env(code):
  return dict(os.environ, PYTHONPATH=code, TF_CPP_MIN_LOG_LEVEL="2")


def quick_preset(code, study):
  """`PRESETS["quick"]` of `experiments.<study>` in the checkout `code`, as JSON values."""
  snippet = (f"import json, experiments.{MODULES[study]} as m; "
             "print(json.dumps(m.PRESETS['quick'], default=list))")
  out = subprocess.run([sys.executable, "-c", snippet], env=_env(code), cwd=code, check=True,
                       capture_output=True, text=True).stdout
  return json.loads(out.strip().splitlines()[-1])


def run_study(code, study, out, log):
  """Runs the quick preset of `study` with the code in `code`; returns wall seconds and loads."""
  cmd = [sys.executable, "-m", "tfp_flows.cli", "reproduce", study, "--preset", "quick",
         "--out", out] + EXTRA.get(study, [])
  load_before, start = os.getloadavg(), time.time()
  with open(log, "w") as f:
    rc = subprocess.run(cmd, env=_env(code), cwd=os.path.dirname(out), stdout=f,
                        stderr=subprocess.STDOUT).returncode
  return dict(command=" ".join(cmd[1:]), returncode=rc, wall_seconds=time.time() - start,
              loadavg_before=load_before, loadavg_after=os.getloadavg())


def entries(results):
  """`{key: entry}` of a results.json of either layout."""
  if "tasks" in results:
    return dict(results["tasks"])
  found = {}
  for key, value in results.get("runs", {}).items():
    if results.get("study") == "iflow":  # runs[part][model][seed]
      for model, seeds in value.items():
        for seed, entry in seeds.items():
          found[f"{key}/{model}/{seed}"] = entry
    else:
      found[key] = value
  if "latent2d" in results:
    found["latent2d"] = results["latent2d"]
  return found


def leaves(value, path=""):
  """`{path: number or list of numbers}` of the numeric leaves of `value`, timings left out."""
  if isinstance(value, dict):
    out = {}
    for k, v in value.items():
      if "seconds" not in k:
        out.update(leaves(v, f"{path}.{k}" if path else k))
    return out
  if isinstance(value, list) and value and all(_number(v) for v in value):
    return {path: [float(v) for v in value]}
  if _number(value):
    return {path: float(value)}
  return {}


def _number(v):
  return isinstance(v, (int, float)) and not isinstance(v, bool)


def _diff(a, b):
  if isinstance(a, list) or isinstance(b, list):
    if not (isinstance(a, list) and isinstance(b, list)) or len(a) != len(b):
      return dict(old=a, new=b, diff=None)
    d = [abs(x - y) for x, y in zip(a, b)]
    return dict(old=a, new=b, len=len(a), diff=max(d) if d else 0.0)
  return dict(old=a, new=b, diff=abs(b - a) if math.isfinite(a) and math.isfinite(b) else None)


def compare(old, new, study):
  """Numbers of every entry present in both results; `headline` the study's headline fields."""
  old_e, new_e = entries(old), entries(new)
  numbers, headline = {}, {}
  for key in sorted(set(old_e) & set(new_e)):
    a, b = leaves(old_e[key]), leaves(new_e[key])
    for path in sorted(set(a) & set(b)):
      numbers[f"{key}:{path}"] = _diff(a[path], b[path])
      if path.split(".")[-1] in HEADLINE[study]:
        headline[f"{key}:{path}"] = numbers[f"{key}:{path}"]
  scalars = [v["diff"] for v in numbers.values() if v["diff"] is not None]
  return dict(only_old=sorted(set(old_e) - set(new_e)), only_new=sorted(set(new_e) - set(old_e)),
              max_diff=max(scalars) if scalars else None,
              identical=bool(numbers) and all(v["diff"] == 0.0 for v in numbers.values()),
              headline=headline, numbers=numbers)


def study_report(study, base, new, work):
  """Both runs of `study`, their preset comparison and the number comparison."""
  report = {}
  presets = {v: quick_preset(code, study) for v, code in (("old", base), ("new", new))}
  differ = sorted(k for k in set(presets["old"]) | set(presets["new"])
                  if presets["old"].get(k) != presets["new"].get(k))
  report["preset_same"] = not differ
  report["preset_differences"] = {k: dict(old=presets["old"].get(k), new=presets["new"].get(k))
                                  for k in differ}
  results = {}
  for version, code in (("old", base), ("new", new)):
    out = os.path.join(work, f"{study}-{version}")
    report[f"run_{version}"] = run_study(code, study, out, out + ".log")
    path = os.path.join(out, "results.json")
    results[version] = json.load(open(path)) if os.path.exists(path) else None
  if results["old"] is None or results["new"] is None:
    report["error"] = "a run wrote no results.json; see the logs in " + work
    return report
  report.update(compare(results["old"], results["new"], study))
  return report


def table(paths):
  """Merges the JSON objects printed by runs of this script: `(merged, markdown table)`.

  The table has one row per headline number (lists: their largest |diff|); `diff/SE` is the
  difference over the new run's Monte Carlo standard error, where the study reports one.
  """
  merged = None
  for path in paths:
    with open(path) as f:
      part = json.load(f)
    merged = merged or dict(part, studies={})
    merged["studies"].update(part["studies"])
  lines = ["| study | task:number | old | new | diff | diff/SE |", "|---|---|---|---|---|---|"]
  fmt = lambda v: ("-" if v is None else f"{v:.6g}" if isinstance(v, float) else
                   "[" + ", ".join(f"{x:.6g}" for x in v) + "]")
  for study, rep in merged["studies"].items():
    for name, v in rep.get("headline", {}).items():
      se = rep["numbers"].get(name + "_se", {}).get("new")  # the evaluation's Monte Carlo error
      ratio = v["diff"] / se if se and isinstance(v["diff"], float) else None
      lines.append(f"| {study} | {name} | {fmt(v['old'])} | {fmt(v['new'])} | {fmt(v['diff'])} "
                   f"| {'-' if ratio is None else f'{ratio:.2f}'} |")
  return merged, "\n".join(lines)


def main(argv=None):
  """Parses `--base`, `--studies`, `--work` (or `--table FILE...`); prints the JSON object."""
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--table", nargs="+", default=None,
                      help="instead of running: merge these outputs of this script, print the "
                           "merged JSON and a markdown table of the headline numbers")
  parser.add_argument("--base", help="checkout of the old code")
  parser.add_argument("--studies", default=",".join(STUDIES), help="comma-separated subset")
  parser.add_argument("--work", default=None, help="folder for the runs (default: a new temp)")
  args = parser.parse_args(argv)
  if args.table:
    merged, markdown = table(args.table)
    print(json.dumps(merged, indent=1))
    print(markdown)
    return 0
  if not args.base:
    parser.error("--base is required (unless --table).")
  studies = [s.strip() for s in args.studies.split(",") if s.strip()]
  unknown = [s for s in studies if s not in STUDIES]
  if unknown or not studies:
    parser.error(f"--studies: unknown {unknown or args.studies!r}; expected some of {STUDIES}.")
  if not os.path.isdir(os.path.join(args.base, "tfp_flows")):
    parser.error(f"--base: {args.base!r} holds no tfp_flows package.")
  work = os.path.abspath(args.work or tempfile.mkdtemp(prefix="studies_unchanged_"))
  os.makedirs(work, exist_ok=True)
  git = lambda code: subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=code,
                                    capture_output=True, text=True).stdout.strip()
  result = dict(base=os.path.abspath(args.base), base_commit=git(args.base), new=HERE,
                new_commit=git(HERE), work=work, studies={})
  for study in studies:
    result["studies"][study] = study_report(study, os.path.abspath(args.base), HERE, work)
  result["loadavg_end"] = os.getloadavg()
  print(json.dumps(result, indent=1))
  return 0


if __name__ == "__main__":
  sys.exit(main())
