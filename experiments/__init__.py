"""Studies that reproduce published results, one module per study.

Each module named in `STUDIES` defines `STUDY = experiments.runner.Study(...)`: its presets,
options, task keys and task function, and its report. `experiments.runner` validates the
options, runs the tasks (in-process or on Dask) and writes `results.json`; see its docstring.
"""
STUDIES = {
    "survae-toy": "experiments.survae_toy",
    "iflow": "experiments.iflow",
    "energy": "experiments.energy",
    "iaf-mnist": "experiments.iaf_mnist",
    "planar-mnist": "experiments.planar_mnist",
    "sir": "experiments.sir",
    "spatial-mnist": "experiments.spatial_mnist",
    "survae-mnist": "experiments.survae_mnist",
}
