"""The `tfp-flows` command: `reproduce STUDY`, `report --out DIR` and `data mnist [--dir DIR]`."""
import argparse
import os
import sys

from experiments import STUDIES, runner


def parser():
  """The `tfp-flows` argument parser (`reproduce STUDY`, `report --out DIR`, `data mnist`).

  `reproduce` takes the study's own options as unknown arguments: `parse_known_args` returns
  them for `experiments.runner`, whose study parser also answers `reproduce STUDY --help`
  (so the `reproduce` parser adds no `--help` of its own).
  """
  top = argparse.ArgumentParser(prog="tfp-flows", description=__doc__)
  sub = top.add_subparsers(dest="command", required=True)
  rep = sub.add_parser("reproduce", help="run a study end to end (STUDY --help: its options)",
                       add_help=False)
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
  return top


def main(argv=None):
  """Entry point of `tfp-flows`.

  `tfp-flows reproduce STUDY [--preset P] [--out DIR] [--workers N | --scheduler ADDRESS]
  [--verbose V] [study options]` runs a study through `experiments.runner` (every option is
  checked before any work; exit status 2 and a message naming it if one is wrong);
  `tfp-flows report --out DIR` rebuilds a study's table and figures from the `results.json`
  in DIR; `tfp-flows data mnist [--dir DIR]` fetches and verifies the
  MNIST IDX files (default DIR: `mnist_files.default_dir()`).
  """
  argv = list(sys.argv[1:] if argv is None else argv)
  cli = parser()
  args, rest = cli.parse_known_args(argv)

  if rest and args.command != "reproduce":
    cli.error(f"unrecognized arguments: {' '.join(rest)}")
  if args.command in ("reproduce", "report"):
    runner.quiet_tensorflow()
    try:
      print(runner.reproduce(args.study, rest) if args.command == "reproduce"
            else runner.report(args.out))
    except ValueError as e:
      cli.exit(2, f"tfp-flows {args.command}: error: {e}\n")
  elif args.command == "data":
    from tfp_flows.datasets import mnist_files

    try:
      files = mnist_files.fetch(args.dir)  # Verifies what it finds or fetches.
    except (OSError, ValueError) as e:
      cli.exit(1, f"tfp-flows data mnist: {e}\n")
    print(f"MNIST files verified in {os.path.dirname(files['train-images-idx3-ubyte'])}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
