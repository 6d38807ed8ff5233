"""The planar-flow DLGM on binarized MNIST (Rezende & Mohamed 2015, arXiv:1505.05770, Sec. 6.2).

`tfp-flows reproduce planar-mnist [--preset quick|cpu|paper] [--out DIR] [--models ...]
[--epochs N] [runner options]`

`tfp_flows.models.DLGM` (40 latent variables, one hidden layer of 400 units
in encoder and decoder) with a diagonal Gaussian posterior, K = 10, 20, 40,
80 planar steps, or K NICE couplings (the rows of the paper's Table 2). The
KL weight is annealed from 0.01 to 1 over `kl_warmup_steps` updates (the
paper: 10,000). Training, evaluation (test ELBO, importance-weighted log p(x)
with k = 128, nats) and the report: `experiments.vae_study`; one runner task per model.
"""

import keras

from experiments import runner, vae_report, vae_study
from tfp_flows.models import DLGM

TITLE = "Planar-flow DLGM on binarized MNIST (Rezende & Mohamed 2015, Table 2)"
# fmt: off
MODELS = {"diagonal": dict(posterior="diagonal")}
for _k in (10, 20, 40, 80):
  MODELS[f"planar_k{_k}"] = dict(posterior="planar", num_steps=_k)
  MODELS[f"nice_k{_k}"] = dict(posterior="nice", num_steps=_k)
# Optimiser: Adam (lr 1e-3, batch 100). The paper trained with RMSProp (momentum 0.9) for
# 500,000 updates; at this project's CPU budgets (a few thousand updates) Adam at the rate common
# for MNIST VAEs stands in.
PRESETS = {
    # <= 10 minutes on 2 CPU cores: 3 models, 3 x 200 updates, small evaluation.
    "quick": dict(models=("diagonal", "planar_k10", "nice_k10"), epochs=3, steps_per_epoch=200,
                  batch_size=100, learning_rate=1e-3, kl_warmup_steps=200, val_points=1000,
                  eval_points=1000, iw_points=200, iw_samples=128, iw_chunk=16),
    # About an hour on this project's 2-core machine while the iaf-mnist cpu study runs beside
    # it. Measured with other tests running (updates/s at batch 100; first fit, i.e. tracing;
    # log p(x), k = 128, 200 images): diagonal 39/s; planar_k10 20/s, 28 s, 25 s; planar_k40
    # 14/s, 63 s, 59 s; nice_k10 28/s, 9 s, 14 s (`python benchmarks/vae_study_sizing.py planar
    # 100 diagonal planar_k10 planar_k40 nice_k10`; a first cpu run trained the diagonal model's
    # 4,000 updates in 111 s beside the iaf-mnist quick study). So: 8,000 updates (16 epochs' worth
    # of images) per model, KL annealed over the first 2,000, and an 840 s cap on each model's
    # training. K = 80 is left out (tracing K = 40 already took a minute and memory grows with K).
    "cpu": dict(models=("diagonal", "planar_k10", "planar_k20", "planar_k40", "nice_k10"),
                epochs=16, steps_per_epoch=500, batch_size=100, learning_rate=1e-3,
                kl_warmup_steps=2000, val_points=2000, eval_points=2000, iw_points=1000,
                iw_samples=128, iw_chunk=16, budget_s=840),
    # The paper's budget (a GPU): 500,000 updates of batch 100 (1,000 epochs of the 50,000
    # training images), KL annealed over the first 10,000 updates, the whole test split.
    "paper": dict(models=tuple(MODELS), epochs=1000, steps_per_epoch=None, batch_size=100,
                  learning_rate=1e-3, kl_warmup_steps=10_000, val_points=10_000,
                  eval_points=10_000, iw_points=10_000, iw_samples=128, iw_chunk=16),
}
# fmt: on


# build(name, preset): the compiled `DLGM` of the named model (see `MODELS`).
build = vae_study.builder(DLGM, MODELS, keras.optimizers.Adam, ("kl_warmup_steps",))


def add_arguments(parser):
  """`--models`, `--epochs`, `--mnist-dir`, `--data-dir` (see `experiments.vae_study`)."""
  vae_study.add_arguments(parser, MODELS)


def configure(args, preset):
  """The run config (`vae_study.configure`)."""
  return vae_study.configure(args, preset, MODELS)


def run_task(key, config, ctx):
  """Trains (resuming) and evaluates the model named `key`."""
  return vae_study.run_model(build, MODELS, key, config, ctx)


def report(out, results):
  """Writes `results.md` and the figures into `out`; returns the markdown."""
  return vae_report.write(out, results, TITLE)


def tasks(config):
  """One task per model, keyed by its name."""
  return list(config["models"])


STUDY = runner.Study("planar-mnist", PRESETS, configure, tasks, run_task, report,
                     add_arguments=add_arguments)
