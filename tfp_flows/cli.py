"""The `tfp-flows` command: `reproduce STUDY` and `report --out DIR`."""
import argparse
import importlib
import json
import os
import sys

from experiments import STUDIES


def _study(name):
  return importlib.import_module(STUDIES[name])


def main(argv=None):
  """Entry point of `tfp-flows`.

  `tfp-flows reproduce STUDY [--preset P] [--out DIR] [study options]` runs a
  study; `tfp-flows report --out DIR` rebuilds a study's table and figures
  from the `results.json` in DIR.
  """
  argv = list(sys.argv[1:] if argv is None else argv)
  parser = argparse.ArgumentParser(prog="tfp-flows", description=__doc__)
  sub = parser.add_subparsers(dest="command", required=True)
  rep = sub.add_parser("reproduce", help="run a study end to end")
  rep.add_argument("study", choices=sorted(STUDIES))
  report = sub.add_parser("report", help="rebuild table and figures from --out")
  report.add_argument("--out", required=True)
  args, rest = parser.parse_known_args(argv)

  if args.command == "reproduce":
    study = _study(args.study)
    sp = argparse.ArgumentParser(prog=f"tfp-flows reproduce {args.study}")
    sp.add_argument("--preset", default="quick")
    sp.add_argument("--out", default=os.path.join("runs", args.study))
    study.add_arguments(sp)
    study_args = sp.parse_args(rest)
    study.run(study_args)
  elif rest:
    parser.error(f"unrecognized arguments: {' '.join(rest)}")
  elif args.command == "report":
    path = os.path.join(args.out, "results.json")
    if not os.path.exists(path):
      parser.error(f"no results.json in {args.out!r}: run `tfp-flows reproduce` first.")
    with open(path) as f:
      name = json.load(f).get("study")
    if name not in STUDIES:
      parser.error(f"{path} names study {name!r}, expected one of {sorted(STUDIES)}.")
    _study(name).report(args.out)
  return 0


if __name__ == "__main__":
  sys.exit(main())
