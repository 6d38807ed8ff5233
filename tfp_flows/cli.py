"""The `tfp-flows` command: `reproduce STUDY`, `report --out DIR` and `data mnist [--dir DIR]`."""
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
  from the `results.json` in DIR; `tfp-flows data mnist [--dir DIR]` fetches and verifies the
  MNIST IDX files (default DIR: `mnist_files.default_dir()`).
  """
  argv = list(sys.argv[1:] if argv is None else argv)
  parser = argparse.ArgumentParser(prog="tfp-flows", description=__doc__)
  sub = parser.add_subparsers(dest="command", required=True)
  rep = sub.add_parser("reproduce", help="run a study end to end")
  rep.add_argument("study", choices=sorted(STUDIES))
  report = sub.add_parser("report", help="rebuild table and figures from --out")
  report.add_argument("--out", required=True)
  data = sub.add_parser("data", help="obtain and verify a dataset's files")
  data.add_argument("dataset", choices=["mnist"])
  data.add_argument(
    "--dir",
    default=None,
    help="default: $TFP_FLOWS_MNIST_DIR or ~/tensorflow_datasets/downloads/manual/mnist",
  )
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
  elif args.command == "data":
    from tfp_flows.datasets import mnist_files

    try:
      files = mnist_files.fetch(args.dir)  # Verifies what it finds or fetches.
    except (OSError, ValueError) as e:
      parser.exit(1, f"tfp-flows data mnist: {e}\n")
    print(f"MNIST files verified in {os.path.dirname(files['train-images-idx3-ubyte'])}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
