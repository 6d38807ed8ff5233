"""Tables and figures of the SurVAE toy study (`experiments.survae_toy`) from its `results.json`.

`results.md`: test log-likelihoods in nats per example, each marked exact or '(IW)' (an
importance-weighted lower bound); `abs.png`, `augment.png`, `circle.png`, `labelled.png`: data
beside each model's density (and, for the circle, its samples).
"""

import json
import os

import numpy as np

from experiments import runner
from tfp_flows.datasets.toy2d import toy2d

BOX = 4.0
BOXES = {"circle": 5.0}  # the circle has radius 4: a wider frame shows where the mass went
ABS_MODELS = ["flow", "abs_fixed", "abs_learned", "abs_middle"]
AUG_MODELS = ["flow_small", "augment"]
CIRCLE_MODELS = ["flow20", "bottleneck", "max"]
COND_MODELS = ["flow_cond", "abs_fixed_cond", "abs_learned_cond"]


def box(dataset):
  """Half-width of the square [-box, box]^2 on which a dataset's densities are drawn."""
  return BOXES.get(dataset, BOX)


def _value(r, field="test_log_likelihood"):
  return "-" if r is None or field not in r else f"{r[field]:.3f}" + ("" if r["exact"] else " (IW)")


def _table(runs, models, datasets, title, field="test_log_likelihood"):
  lines = [
    f"## {title}",
    "",
    "| dataset | " + " | ".join(models) + " |",
    "|---" * (1 + len(models)) + "|",
  ]
  for d in datasets:
    cells = [_value(runs.get(f"{m}/{d}"), field) for m in models]
    lines.append(f"| {d} | " + " | ".join(cells) + " |")
  return lines + [""]


def _circle(runs):
  if not any(f"{m}/circle" in runs for m in CIRCLE_MODELS):
    return []
  lines = [
    "## Degenerate circle (noise-free, radius 4)",
    "",
    (
      "| model | test log-likelihood | exact | mean \\|radius - 4\\| of 10,000 samples | "
      "parameters |"
    ),
    "|---|---|---|---|---|",
  ]
  for m in CIRCLE_MODELS:
    r = runs.get(f"{m}/circle")
    if r is not None:
      lines.append(
        f"| {m} | {_value(r)} | {'exact' if r['exact'] else 'bound'} | "
        f"{r['sample_radius_error']:.4f} | {r['params']:,} |"
      )
  return lines + [""]


def _labelled(runs):
  if not any(r["model"] in COND_MODELS for r in runs.values()):
    return []
  lines = [
    "## Labelled study: conditional p(x | y) vs unconditional p(x)",
    "",
    (
      "| dataset | model | cond. log p(x \\| y) | uncond. log p(x) | gain | log sum_y p(y) "
      "p(x \\| y) | H(y) |"
    ),
    "|---|---|---|---|---|---|---|",
  ]
  for r in runs.values():
    if r["model"] not in COND_MODELS:
      continue
    base = runs.get(f"{r['model'].removesuffix('_cond')}/{r['dataset']}")
    gain = "-" if base is None else f"{r['test_log_likelihood'] - base['test_log_likelihood']:+.3f}"
    lines.append(
      f"| {r['dataset']} | {r['model']} | {_value(r)} | {_value(base)} | {gain} | "
      f"{r['marginal_test_log_likelihood']:.3f} | {r['label_entropy']:.3f} |"
    )
  lines += [
    "",
    "Learned q = P(x_d > 0) of `abs_learned_cond` per label (datasets with <= 8 labels):",
    "",
  ]
  lines += [
    f"- {k}: " + ", ".join(f"({a:.2f}, {b:.2f})" for a, b in v["q"])
    for k, v in runs.items()
    if v["model"] == "abs_learned_cond" and len(v["q"]) <= 8
  ]
  return lines + [""]


def _figure(plt, path, out, rows, columns, panel):
  """A grid of panels: one row per dataset, a data column, then `panel(ax, column, dataset)`."""
  fig, axes = plt.subplots(
    len(rows), 1 + len(columns), squeeze=False, figsize=(1.6 * (1 + len(columns)), 1.6 * len(rows))
  )
  for i, d in enumerate(rows):
    x, label = toy2d(d, seed=1, labels=True)  # the test split, without needing the tfds directory
    axes[i, 0].scatter(x[:2000, 0], x[:2000, 1], c=label[:2000], s=0.5, cmap="tab20")
    axes[i, 0].set(xlim=(-box(d), box(d)), ylim=(-box(d), box(d)), aspect="equal")
    axes[i, 0].set_ylabel(d, fontsize=7)
    for j, column in enumerate(columns):
      panel(axes[i, j + 1], column, d)
  for j, title in enumerate(["data"] + list(columns)):
    axes[0, j].set_title(title, fontsize=7)
  for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
  fig.tight_layout()
  fig.savefig(os.path.join(out, path), dpi=80)
  plt.close(fig)


def report(out, results):
  """Writes `results.md` (test log-likelihoods, learned q) and the figures into `out`.

  Args:
    out: the study's folder.
    results: the runner's results dict (`tasks` keyed `<model>/<dataset>` and `data/<dataset>`).

  Returns:
    The markdown of `results.md`.

  Raises:
    ValueError: naming `results.json` if it holds no finished `<model>/<dataset>` task or no
      config.
  """
  r, s = runner.report_inputs(out, results, "<model>/<dataset> task",
                              keep=lambda k, v: not k.startswith("data/") and "dataset" in v)
  plt = runner.pyplot()
  sets = lambda models: [
    d
    for d in dict.fromkeys(v["dataset"] for v in r.values())
    if any(f"{m}/{d}" in r for m in models)
  ]
  lines = [
    f"# SurVAE toy study ({results['preset']} preset)",
    "",
    f"Settings: {json.dumps(s)}",
    "",
    (
      "Mean test log-likelihood, nats per example (higher is better). Exact for flows, Abs, "
      "Max and conditional models (10,000 test points); '(IW)' = importance-weighted "
      f"estimate with k = {s['iw_samples']} on {s['iw_points']} test points (a stochastic "
      "lower bound)."
    ),
    "",
  ]
  abs_sets, aug_sets = sets(ABS_MODELS), sets(AUG_MODELS)
  if abs_sets:
    lines += _table(r, ABS_MODELS, abs_sets, "Abs study")
    lines += ["Learned sign probabilities q = P(x_d > 0):", ""]
    lines += [
      f"- {k}: q = ({v['q'][0]:.3f}, {v['q'][1]:.3f})"
      for k, v in r.items()
      if v["model"] in ("abs_learned", "abs_middle")
    ] + [""]
  if aug_sets:
    title = f"Augment study (first {s['iw_points']} test points for both models)"
    lines += _table(r, AUG_MODELS, aug_sets, title, field="subset_log_likelihood")
    elbos = [
      f"{v['dataset']} {v['subset_elbo']:.3f}" for v in r.values() if v["model"] == "augment"
    ]
    lines += [
      "One-sample bound (ELBO) of the augmented model on the same points: "
      + ", ".join(elbos)
      + ".",
      "",
    ]
  lines += _circle(r) + _labelled(r)
  stopped = [
    f"{k} at iteration {v['stopped_at_iteration']}"
    for k, v in r.items()
    if v.get("stopped_at_iteration")
  ]
  if stopped:
    lines += [
      "Stopped at a non-finite training loss and evaluated with the last finite weights "
      "(checked every min(50, iterations / 10) iterations): " + ", ".join(stopped) + ".",
      "",
    ]
  secs = sum(v["seconds"] for v in r.values())
  lines += [
    (
      f"Total time in `fit`: {secs:.0f} s over {len(r)} runs (the first run of each model "
      "includes tracing its training step)."
    )
  ]
  markdown = "\n".join(lines) + "\n"
  with open(os.path.join(out, "results.md"), "w") as f:
    f.write(markdown)

  def load(model, d, name="density"):
    path = os.path.join(runner.task_folder(out, f"{model}/{d}"), f"{name}.npy")
    return np.load(path) if os.path.exists(path) else None

  def density(ax, model, d):
    grid = load(model, d)
    if grid is not None:
      ax.imshow(grid, origin="lower", extent=(-box(d), box(d)) * 2)

  def log_density(ax, model, d):  # the singular circle: log scale, 10 nats below the peak
    grid = load(model.removesuffix(" log-density"), d)
    if grid is not None:
      log_p = np.log(np.maximum(grid, 1e-30))
      ax.imshow(np.maximum(log_p, log_p.max() - 10), origin="lower", extent=(-box(d), box(d)) * 2)

  def samples(ax, model, d):
    x = load(model.removesuffix(" samples"), d, "samples")
    if x is not None:
      ax.scatter(x[:, 0], x[:, 1], s=0.3)
      ax.set(xlim=(-box(d), box(d)), ylim=(-box(d), box(d)), aspect="equal")

  for path, models, datasets in (
    ("abs.png", ABS_MODELS, sets(ABS_MODELS)),
    ("augment.png", AUG_MODELS, sets(AUG_MODELS)),
    ("labelled.png", COND_MODELS, sets(COND_MODELS)),
  ):
    if datasets:
      _figure(plt, path, out, datasets, models, density)
  circle = [m for m in CIRCLE_MODELS if f"{m}/circle" in r]
  if circle:
    columns = [f"{m} log-density" for m in circle] + [f"{m} samples" for m in circle]
    _figure(
      plt,
      "circle.png",
      out,
      ["circle"],
      columns,
      lambda ax, c, d: (log_density if c.endswith("density") else samples)(ax, c, d),
    )
  return markdown
