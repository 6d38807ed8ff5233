"""Tables and figures of the survae-mnist study: bits/dim marked bound / approx., samples, curves, latents.

`results.md`: per model the test bits/dim (importance-weighted over k dequantizations: a bound
on the discrete negative log-likelihood; "approx." where the model's likelihood is
approximate, never ranked with the others), its standard error over test images,
parameters, wall time and the classifier's accuracy on class-conditional samples per
temperature. Figures: `samples_<model>_T<t>.png` (10 x 10, one row per digit),
`training_curves.png`, `latents_<model>.png` (1-D histograms of four latent coordinates
against N(0, 1); a 2-D scatter of two with the 90% circle of N(0, I_2)).
"""
import math
import os

import numpy as np

from experiments import runner
from tfp_flows.surjections.base import MARKS

RADIUS_90 = math.sqrt(-2.0 * math.log(0.1))  # P(|z| < r) = 0.9 for z ~ N(0, I_2)


def _table(results, models, tasks):
  temps = [str(t) for t in results["config"]["temperatures"]]
  head = ("| model | likelihood | test bits/dim | s.e. | k | test images | parameters | "
          "train min | " + " | ".join(f"sample acc. T={t}" for t in temps) + " |")
  lines = [head, "|" + "---|" * (8 + len(temps))]
  for m in models:
    r = tasks[f"model/{m}"]
    mark = MARKS[r["likelihood"]]
    bits = f"{r['test_bits_per_dim']:.3f}" + (" (approx.)" if mark == "approx." else "")
    accs = " | ".join(f"{r['sample_accuracy'][t]:.3f}" for t in temps)
    lines.append(f"| {m} | {mark} | {bits} | {r['test_bits_per_dim_se']:.3f} | "
                 f"{r['iw_samples']} | {r['test_images']} | {r['parameters']:,} | "
                 f"{r['train_seconds'] / 60:.1f} | {accs} |")
  return "\n".join(lines)


def report(out, results):
  """Writes `results.md` and the figures into `out`; returns the markdown.

  Raises:
    ValueError: if no model task has finished, or a model's files are missing.
  """
  done, config = runner.report_inputs(out, results, "model/<name> task",
                                      keep=lambda key, result: key.startswith("model/"),
                                      config_keys=("temperatures",))
  plt = runner.pyplot()
  models, tasks = [k.split("/")[1] for k in done], results["tasks"]
  folder = lambda key: os.path.join(out, "tasks", *key.split("/"))  # noqa: E731
  classifier = tasks.get("classifier", {}).get("test_accuracy")
  text = [f"# SurVAE flows on MNIST (preset {results['preset']})", "",
          _table(results, models, tasks), "",
          "Bits/dim: importance-weighted over k uniform dequantizations (a bound); "
          "'approx.' marks a model whose likelihood is neither exact nor a bound "
          "(overlapping max-pool), not comparable with the others.",
          f"Sample accuracy: the CNN classifier (test accuracy {classifier}) on "
          f"{config['samples_per_temperature']} class-conditional samples per temperature.", ""]
  fig, ax = plt.subplots(figsize=(6, 4))
  for m in models:
    history = tasks[f"model/{m}"]["history"]
    steps = config["steps_per_epoch"] * np.arange(1, len(history["loss"]) + 1)
    line, = ax.plot(steps, history["loss"], label=f"{m} train")
    if "val_loss" in history:
      ax.plot(steps, history["val_loss"], "--", color=line.get_color(), label=f"{m} valid.")
  ax.set(xlabel="training step", ylabel="bits/dim (one-sample bound)")
  ax.legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(os.path.join(out, "training_curves.png"), dpi=100)
  plt.close(fig)
  text.append("![training curves](training_curves.png)")
  for m in models:
    for t in config["temperatures"]:
      path = os.path.join(folder(f"model/{m}"), f"samples_T{t}.npy")
      if not os.path.exists(path):
        raise ValueError(f"{path} is missing: rerun task model/{m}.")
      grid = np.load(path)
      image = grid.transpose(0, 2, 1, 3).reshape(grid.shape[0] * 28, grid.shape[1] * 28)
      plt.imsave(os.path.join(out, f"samples_{m}_T{t}.png"), image, cmap="gray", vmin=0,
                 vmax=255)
      text.append(f"![{m} samples T={t}](samples_{m}_T{t}.png)")
    latent = np.load(os.path.join(folder(f"model/{m}"), "latent.npy"))
    fig, axes = plt.subplots(1, 5, figsize=(15, 3))
    grid_z = np.linspace(-4, 4, 200)
    for ax, j in zip(axes[:4], np.linspace(0, latent.shape[1] - 1, 4).astype(int)):
      ax.hist(latent[:, j], bins=40, range=(-4, 4), density=True)
      ax.plot(grid_z, np.exp(-grid_z ** 2 / 2) / math.sqrt(2 * math.pi))
      ax.set_title(f"{m}: z[{j}]")
    axes[4].scatter(latent[:, 0], latent[:, -1], s=2)
    axes[4].add_patch(plt.Circle((0, 0), RADIUS_90, fill=False, color="C1"))
    inside = np.mean(latent[:, 0] ** 2 + latent[:, -1] ** 2 < RADIUS_90 ** 2)
    axes[4].set(xlim=(-4, 4), ylim=(-4, 4), aspect="equal",
                title=f"z[0], z[-1]: {inside:.0%} in the 90% circle")
    fig.tight_layout()
    fig.savefig(os.path.join(out, f"latents_{m}.png"), dpi=80)
    plt.close(fig)
    text.append(f"![{m} latents](latents_{m}.png)")
  markdown = "\n".join(text) + "\n"
  with open(os.path.join(out, "results.md"), "w") as f:
    f.write(markdown)
  return markdown
