"""Table, comparison and figures of the MNIST VAE studies, rebuilt from an `--out` folder.

Reads the runner's results and, per model, `tasks/<name>/state.json` (training curves),
`tasks/<name>/eval.npz` (per-image test ELBO and log p(x), nats),
`tasks/<name>/images.npz` (reconstructions, prior samples) and `tasks/<name>/test_images.npy`
written by `experiments.vae_study`.
"""

import json
import os

import numpy as np

from experiments import runner

plt = runner.pyplot()

BASELINE = "diagonal"


def _load(out, name, file):
  path = os.path.join(runner.task_folder(out, name), file)
  if not os.path.exists(path):
    return None
  if file.endswith(".json"):
    with open(path) as f:
      return json.load(f)
  if file.endswith(".npy"):
    return np.load(path)
  with np.load(path) as data:
    return dict(data)


def table(runs):
  """Markdown table of the runs: epochs, test ELBO, log p(x) (k), gap, bits/dim, train time."""
  lines = [
    (
      "| model | epochs | test ELBO (nats) | test log p(x) (nats, k) | gap (nats) | bits/dim "
      "| train time (s) | stopped |"
    ),
    "|---|---|---|---|---|---|---|---|",
  ]
  for name, r in runs.items():
    lines.append(
      f"| {name} | {r['epochs']} | {r['elbo']:.2f} ± {r['elbo_se']:.2f} | "
      f"{r['log_likelihood']:.2f} ± {r['log_likelihood_se']:.2f} (k={r['iw_samples']}) | "
      f"{r['gap']:.2f} | {r['bits_per_dim']:.4f} | {r['train_seconds']:.0f} | "
      f"{r['stopped'] or '-'} |"
    )
  return "\n".join(lines)


def _paired(a, b):
  """Mean and standard error of the per-image difference a - b."""
  d = np.asarray(a, float) - np.asarray(b, float)
  return float(d.mean()), float(d.std() / np.sqrt(len(d)))


def _change(diff, se, up, down):
  if abs(diff) <= 2 * se:
    return f"{diff:+.2f} ± {se:.2f} nats (within two standard errors: no clear change)"
  return f"{diff:+.2f} ± {se:.2f} nats ({up if diff > 0 else down})"


def comparison(out, runs, baseline=BASELINE):
  """One sentence per flow model: ELBO, log p(x) and gap against the baseline, computed from the
  per-image test values (paired differences on the same images, ± standard error).

  Returns:
    Markdown lines; empty if the baseline has no results.
  """
  base = _load(out, baseline, "eval.npz")
  if baseline not in runs or base is None:
    return []
  lines = []
  for name in runs:
    own = _load(out, name, "eval.npz")
    if name == baseline or own is None:
      continue
    d_elbo = _paired(own["elbo"], base["elbo"])
    d_ll = _paired(own["log_likelihood"], base["log_likelihood"])
    n = len(own["log_likelihood"])
    gap_own = own["log_likelihood"] - own["elbo"][:n]
    d_gap = _paired(gap_own, base["log_likelihood"] - base["elbo"][:n])
    lines.append(
      f"- **{name}** vs {baseline}: ELBO {_change(*d_elbo, 'higher', 'lower')}; "
      f"log p(x) {_change(*d_ll, 'raised', 'lowered')}; gap log p(x) - ELBO "
      f"{runs[baseline]['gap']:.2f} -> {runs[name]['gap']:.2f} nats, "
      f"{_change(*d_gap, 'a looser bound', 'a tighter bound')}."
    )
  return lines


def _curves(out, runs, path):
  fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
  for name in runs:
    state = _load(out, name, "state.json")
    if not state or not state["history"]["loss"]:
      continue
    epochs = np.arange(1, len(state["history"]["loss"]) + 1)
    axes[0].plot(epochs, state["history"]["loss"], label=name)
    axes[1].plot(epochs, state["history"]["val_elbo"], label=name)
  axes[0].set(xlabel="epoch", ylabel="nats", title="training loss (annealed / free-bits -ELBO)")
  axes[1].set(xlabel="epoch", ylabel="nats", title="validation ELBO")
  axes[1].legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def _reconstructions(out, runs, path):
  pictures = {n: _load(out, n, "images.npz") for n in runs}
  pictures = {n: p for n, p in pictures.items() if p is not None}
  if not pictures:
    return
  x = _load(out, next(iter(pictures)), "test_images.npy")[:10, ..., 0]
  rows = [("test image", x)]
  for name, p in pictures.items():
    mean = p["reconstructions"][..., 0]
    rows += [(f"{name}: mean", mean), (f"{name}: |x - mean|", np.abs(x - mean))]
  fig, axes = plt.subplots(len(rows), 10, figsize=(10, 1.05 * len(rows)), squeeze=False)
  for i, (label, images) in enumerate(rows):
    for j in range(10):
      axes[i, j].imshow(images[j], cmap="gray", vmin=0, vmax=1)
      axes[i, j].axis("off")
    axes[i, 0].text(-2, 14, label, ha="right", va="center", fontsize=7)
  fig.subplots_adjust(left=0.22, wspace=0.05, hspace=0.05)
  fig.savefig(path, dpi=80)
  plt.close(fig)


def _samples(out, runs, path):
  pictures = {n: _load(out, n, "images.npz") for n in runs}
  pictures = {n: p["samples"][..., 0] for n, p in pictures.items() if p is not None}
  if not pictures:
    return
  fig, axes = plt.subplots(1, len(pictures), figsize=(2.6 * len(pictures), 2.9), squeeze=False)
  for ax, (name, s) in zip(axes[0], pictures.items()):
    tiles = s[:64].reshape(8, 8, 28, 28).transpose(0, 2, 1, 3).reshape(8 * 28, 8 * 28)
    ax.imshow(tiles, cmap="gray", vmin=0, vmax=1)
    ax.set_title(name, fontsize=8)
    ax.axis("off")
  fig.tight_layout()
  fig.savefig(path, dpi=80)
  plt.close(fig)


def write(out, results, title, sections=()):
  """Writes `results.md`, `curves.png`, `reconstructions.png` and `samples.png` into `out`.

  Args:
    out: the study's folder.
    results: the runner's results dict (`tasks` keyed by model name, `config`).
    title: heading of `results.md`.
    sections: extra Markdown paragraphs appended (e.g. the 2-D latent study's).

  Returns:
    The Markdown text written.

  Raises:
    ValueError: naming `results.json` if it holds no config or no finished model task.
  """
  runs, config = runner.report_inputs(
      out, results, "model task", keep=lambda key, result: "elbo" in result
      and "log_likelihood" in result, config_keys=("eval_seed",))
  settings = {k: v for k, v in config.items()
              if k not in ("models", "mnist_dir", "data_dir", "eval_seed")}
  lines = [
    f"# {title} ({results.get('preset')} preset)",
    "",
    f"Settings: `{json.dumps(settings)}`",
    "",
    (
      "Test split, binarized once by a Bernoulli(pixel/255) draw with the fixed seed "
      f"{config['eval_seed']} (every model sees the same binary images). ELBO: mean "
      "one-sample ELBO over the first `eval_points` test images; log p(x): importance-"
      "weighted estimate with k samples (Burda et al. 2016) on the first `iw_points` of "
      "them; gap: mean log p(x) - ELBO on those images; ± standard error over images; "
      "bits/dim of -log p(x) over 784 pixels; train time: wall seconds of `fit` "
      "(tracing and validation included). Nats throughout."
    ),
    "",
    table(runs),
    "",
  ]
  compared = comparison(out, runs)
  if compared:
    lines += (
      [
        (
          "Flow posteriors against the diagonal baseline (paired differences on the same "
          "test images, ± standard error):"
        ),
        "",
      ]
      + compared
      + [""]
    )
  lines += list(sections)
  _curves(out, runs, os.path.join(out, "curves.png"))
  _reconstructions(out, runs, os.path.join(out, "reconstructions.png"))
  _samples(out, runs, os.path.join(out, "samples.png"))
  text = "\n".join(lines) + "\n"
  with open(os.path.join(out, "results.md"), "w") as f:
    f.write(text)
  return text
