"""The IAF-VAE on binarized MNIST (Kingma et al. 2016, arXiv:1606.04934, Sec. 5, Table 2, Fig. 3).

`tfp-flows reproduce iaf-mnist [--preset quick|cpu|paper] [--out DIR] [--models ...]
[--epochs N] [--free-bits LAMBDA] [runner options]`

`tfp_flows.models.IAFVAE` (ResNet encoder/decoder of the paper's appendix,
32 latent dimensions) with a diagonal Gaussian posterior or IAF posteriors of
depth d and width w (`iaf_d{d}_w{w}`: learned sigma; `..._const`: sigma = 1).
Adamax (Kingma & Ba 2015, Alg. 2) at its default rate 0.002, batch 100.
Training, evaluation (test ELBO, importance-weighted log p(x), k = 128,
nats) and the report: `experiments.vae_study`; one runner task per model. Then the task
`latent2d`, the 2-D latent study of
the paper's Fig. 3: `IAFVAE(latent_size=2)` with a diagonal and with an IAF
posterior, each trained on the same 4 training images; the figure shows the
prior and each image's posterior density on a grid.
"""

import os

import keras
import numpy as np
import tensorflow as tf

from experiments import runner, vae_report, vae_study
from tfp_flows.models import IAFVAE

TITLE = "IAF-VAE on binarized MNIST (Kingma et al. 2016, Table 2)"
# fmt: off
MODELS = {"diagonal": {"posterior": "diagonal"}}
for _d, _w in ((2, 320), (2, 1920), (4, 1920), (8, 1920)):
  for _suffix, _sigma in (("", "learned"), ("_const", "constant")):
    MODELS[f"iaf_d{_d}_w{_w}{_suffix}"] = dict(posterior="iaf", depth=_d, width=_w, sigma=_sigma)
# The 2-D latent study: 4 images, each 10 times in a batch of 40; IAF of depth 2, width 64.
LATENT2D = dict(images=4, batch_size=40, depth=2, width=64, grid=121, extent=4.0, elbo_draws=200,
                iw_samples=1000)
PRESETS = {
    # <= 10 minutes on 2 CPU cores: 2 models, 3 x 40 updates, small evaluation.
    "quick": dict(models=("diagonal", "iaf_d2_w320"), epochs=3, steps_per_epoch=40,
                  batch_size=100, learning_rate=2e-3, free_bits=0.0, val_points=300,
                  eval_points=1000, iw_points=100, iw_samples=128, iw_chunk=16,
                  latent2d_steps=150),
    # Sized (late in a session, with under an hour left) from measurements taken with other tests
    # running (first fit, i.e. tracing; updates/s at batch 100; log p(x), k = 128, 200 images):
    # diagonal 18.5 s, 2.9/s, 46 s; iaf_d2_w320 25.3 s, 1.5/s, 74 s (`python
    # benchmarks/vae_study_sizing.py iaf 30 diagonal iaf_d2_w320`). It then took 17 minutes here
    # (docs/iaf_mnist.md), so `--epochs 8` or more fits the hour a 2-core machine allows; the
    # paper's models of width 1920 and depth 4-8 were not timed for this preset.
    "cpu": dict(models=("diagonal", "iaf_d2_w320", "iaf_d2_w320_const"), epochs=4,
                steps_per_epoch=150, batch_size=100, learning_rate=2e-3, free_bits=0.0,
                val_points=1000, eval_points=2000, iw_points=400, iw_samples=128, iw_chunk=16,
                budget_s=480, latent2d_steps=400),
    # The paper's budget (a GPU): every model of its Table 2, 2,000 epochs of the 50,000
    # training images (our reading; see docs/iaf_mnist.md), the whole test split, k = 128.
    "paper": dict(models=tuple(MODELS), epochs=2000, steps_per_epoch=None, batch_size=100,
                  learning_rate=2e-3, free_bits=0.0, val_points=10_000, eval_points=10_000,
                  iw_points=10_000, iw_samples=128, iw_chunk=16, latent2d_steps=5000),
}
# fmt: on


# build(name, preset): the compiled `IAFVAE` of the named model (see `MODELS`).
build = vae_study.builder(IAFVAE, MODELS, keras.optimizers.Adamax, ("free_bits",))


def _grid(cfg):
  t = np.linspace(-cfg["extent"], cfg["extent"], cfg["grid"], dtype="float32")
  return t, np.stack(np.meshgrid(t, t), -1).reshape(-1, 2)


def latent2d(preset, ctx, data=None):
  """The 2-D latent study (the paper's Fig. 3): two 2-latent IAF-VAEs trained on 4 images.

  Both models see the first `LATENT2D["images"]` training images, binarized once
  (seed `vae_study.EVAL_SEED`), `preset["latent2d_steps"]` Adamax updates of
  batches holding each image `batch_size` / 4 times (with the runner's callbacks).

  Returns:
    The task's entry: per model, the mean one-sample ELBO (`elbo_draws` per image) and the
    importance-weighted log p(x) (k = `iw_samples`) of the 4 images, nats. The prior and
    posterior densities on the grid go to `ctx.folder/latent2d.npz`.
  """
  cfg = LATENT2D
  x = vae_study.fixed_images(ctx.folder, "train", cfg["images"], data)
  data = np.tile(x, (cfg["batch_size"] // len(x), 1, 1, 1))
  t, grid = _grid(cfg)
  entry, densities = dict(steps=preset["latent2d_steps"], **cfg), {}
  for posterior in ("diagonal", "iaf"):
    keras.utils.set_random_seed(0)
    model = IAFVAE(latent_size=2, posterior=posterior, depth=cfg["depth"], width=cfg["width"])
    model.compile(optimizer=keras.optimizers.Adamax(preset["learning_rate"]))
    model(x)
    model.fit(
      tf.data.Dataset.from_tensors(data).repeat(),
      epochs=1,
      steps_per_epoch=preset["latent2d_steps"],
      verbose=ctx.verbose,
      shuffle=False,
      callbacks=ctx.callbacks(),
    )
    q = model.posterior(x)
    densities[posterior] = np.exp(q.log_prob(grid[:, None, :]).numpy()).T.reshape(
      len(x), len(t), len(t)
    )
    n, k = cfg["elbo_draws"], cfg["iw_samples"]
    elbo = model.elbo(np.repeat(x, n, axis=0)).reshape(len(x), n).mean(1)
    log_p = model.log_likelihood(x, num_samples=k, chunk_size=min(k, 100))
    entry[posterior] = {"elbo": elbo.tolist(), "log_likelihood": log_p.tolist()}
    densities["prior"] = np.exp(model.prior.log_prob(grid).numpy()).reshape(len(t), len(t))
  np.savez(os.path.join(ctx.folder, "latent2d.npz"), t=t, images=x, **densities)
  return entry


def _latent2d_figure(out):
  path = os.path.join(runner.task_folder(out, "latent2d"), "latent2d.npz")
  if not os.path.exists(path):
    return
  plt = runner.pyplot()
  with np.load(path) as d:
    t, images, prior = d["t"], d["images"], d["prior"]
    panels = [
      ("prior p(z)", [prior]),
      ("diagonal Gaussian q(z|x)", d["diagonal"]),
      ("IAF q(z|x)", d["iaf"]),
    ]
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.4))
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:red"]  # the images, left to right
    for ax, (title, dens) in zip(axes[:3], panels):
      for i, density in enumerate(dens):
        colour = "gray" if len(dens) == 1 else colours[i]
        levels = density.max() * np.array([0.05, 0.3, 0.6, 0.9])
        ax.contourf(t, t, density, levels=list(levels) + [np.inf], colors=[colour], alpha=0.25)
        ax.contour(t, t, density, levels=levels, colors=[colour], linewidths=0.8)
      ax.set(title=title, xlabel="z1", ylabel="z2", aspect="equal")
    axes[3].imshow(np.concatenate(images[..., 0], axis=1), cmap="gray")
    axes[3].set_title("training images: blue, orange, green, red", fontsize=8)
    axes[3].axis("off")
  fig.tight_layout()
  fig.savefig(os.path.join(out, "latent2d.png"), dpi=90)
  plt.close(fig)


def _latent2d_section(results):
  entry = results["tasks"].get("latent2d")
  if not entry:
    return []
  rows = [
    f"| {p} | "
    + " | ".join(
      f"{e:.2f} / {ll:.2f}" for e, ll in zip(entry[p]["elbo"], entry[p]["log_likelihood"])
    )
    + " |"
    for p in ("diagonal", "iaf")
  ]
  return (
    [
      f"## 2-D latent study ({entry['steps']} updates on {entry['images']} training images)",
      "",
      (
        # (results.json files written before 2026-11-21 19:00 lack the two counts: 200, 1000)
        f"ELBO (mean of {entry.get('elbo_draws', 200)} draws) / importance-weighted log p(x) "
        f"(k = {entry.get('iw_samples', 1000)}) of each "
        "image, nats; densities in `latent2d.png`."
      ),
      "",
      "| posterior | " + " | ".join(f"image {i}" for i in range(entry["images"])) + " |",
      "|---" * (entry["images"] + 1) + "|",
    ]
    + rows
    + [""]
  )


def add_arguments(parser):
  """`--models`, `--epochs`, `--mnist-dir`, `--data-dir`, `--free-bits`."""
  vae_study.add_arguments(parser, MODELS)
  parser.add_argument(
    "--free-bits",
    default=None,
    help="free bits lambda in nats (default: the preset's, 0 = off)",
  )


def configure(args, preset):
  """The run config (`vae_study.configure`) with `--free-bits`.

  Raises:
    ValueError: as `vae_study.configure`, or for `--free-bits` < 0.
  """
  if args.free_bits is not None:
    preset["free_bits"] = runner.number("--free-bits", args.free_bits, 0)
  return vae_study.configure(args, preset, MODELS)


def tasks(config):
  """One task per model, then `latent2d`: the 2-D latent study."""
  return list(config["models"]) + ["latent2d"]


def run_task(key, config, ctx):
  """Trains (resuming) and evaluates a model, or runs the 2-D latent study."""
  if key == "latent2d":
    return latent2d(config, ctx, vae_study.data_options(config))
  return vae_study.run_model(build, MODELS, key, config, ctx)


def report(out, results):
  """Writes `results.md` (with the 2-D latent study) and the figures; returns the markdown."""
  markdown = vae_report.write(out, results, TITLE, _latent2d_section(results))
  _latent2d_figure(out)
  return markdown


STUDY = runner.Study("iaf-mnist", PRESETS, configure, tasks, run_task, report,
                     add_arguments=add_arguments)
