"""Studies that reproduce published results, one module per study.

Each module named in `STUDIES` provides:
  * `add_arguments(parser)`: its command-line options (beside `--preset` and `--out`);
  * `run(args)`: trains, evaluates and writes `results.json`, `results.md` and figures
    into `args.out`, skipping work whose results are already there;
  * `report(out)`: rebuilds the table and figures from what is in `out`.
"""
STUDIES = {
    "survae-toy": "experiments.survae_toy",
    "iflow": "experiments.iflow",
    "energy": "experiments.energy",
    "iaf-mnist": "experiments.iaf_mnist",
    "planar-mnist": "experiments.planar_mnist",
    "survae-mnist": "experiments.survae_mnist",
}
