"""Table and figures of the iFlow study, rebuilt from `results.json` and the saved latents."""
import os

import numpy as np

from experiments import runner
from tfp_flows.metrics import match_sources

plt = runner.pyplot()


def runs_of(results):
  """The runner's tasks `{"<part>/<model>/<seed>": result}` as `{part: {model: {seed: result}}}`.

  Models in the order of the config's `models` (then any others), seeds in increasing order;
  keys of another form are left out.
  """
  order = {m: i for i, m in enumerate((results.get("config") or {}).get("models", []))}
  keys = sorted((k.split("/") for k in results["tasks"] if k.count("/") == 2),
                key=lambda k: (k[0], order.get(k[1], len(order)), k[1], int(k[2])))
  runs = {}
  for part, model, seed in keys:
    runs.setdefault(part, {}).setdefault(model, {})[seed] = results["tasks"][f"{part}/{model}/{seed}"]
  return runs


def _ok(runs):
  return [r for r in runs.values() if r.get("mcc") is not None]


def _stats(values):
  values = np.asarray(values, float)
  return (float(values.mean()), float(values.std())) if len(values) else (np.nan, np.nan)


def summarise(results):
  """Per model of the main study: seeds, failures, MCC / loss mean and std (adds `summary`)."""
  summary = {}
  for name, runs in results["runs"].get("study", {}).items():
    ok = _ok(runs)
    entry = dict(seeds=len(runs), failed=len(runs) - len(ok))
    for key in ("mcc", "mcc_posterior_sample", "final_loss", "wall_seconds"):
      vals = [r[key] for r in ok if key in r]
      if vals:
        entry[key + "_mean"], entry[key + "_std"] = _stats(vals)
    entry["iterations"] = max((r["iterations"] for r in runs.values()), default=0)
    summary[name] = entry
  results["summary"] = summary
  return summary


def table(results):
  """Markdown table of `summarise(results)`."""
  lines = ["| model | seeds (failed) | MCC mean ± std | MCC, posterior sample | final loss (nats) "
           "| iterations | wall s / seed |", "|---|---|---|---|---|---|---|"]
  for name, e in summarise(results).items():
    sample = (f"{e['mcc_posterior_sample_mean']:.4f} ± {e['mcc_posterior_sample_std']:.4f}"
              if "mcc_posterior_sample_mean" in e else "–")
    lines.append(
        f"| {name} | {e['seeds']} ({e['failed']}) | {e.get('mcc_mean', np.nan):.4f} ± "
        f"{e.get('mcc_std', np.nan):.4f} | {sample} | {e.get('final_loss_mean', np.nan):.3f} ± "
        f"{e.get('final_loss_std', np.nan):.3f} | {e['iterations']} | "
        f"{e.get('wall_seconds_mean', np.nan):.1f} |")
  return "\n".join(lines)


def paired(results):
  """Markdown table: MCC of the first model minus each other model's, on the seeds both finished.

  Per pair: the number of shared seeds, the mean paired difference ± its standard error
  (std / sqrt(n - 1) of the per-seed differences), and on how many seeds the first model is
  higher. Seeds share the data (data seed = study seed), so pairing removes the data's share of
  the seed-to-seed spread. Empty string with fewer than two models.
  """
  study = results["runs"].get("study", {})
  names = list(study)
  if len(names) < 2:
    return ""
  mcc = {n: {r["seed"]: r["mcc"] for r in _ok(study[n])} for n in names}
  lines = [f"| {names[0]} minus | shared seeds | MCC difference ± s.e. | {names[0]} higher on |",
           "|---|---|---|---|"]
  for other in names[1:]:
    seeds = sorted(set(mcc[names[0]]) & set(mcc[other]))
    diff = np.array([mcc[names[0]][s] - mcc[other][s] for s in seeds])
    se = diff.std() / np.sqrt(len(diff) - 1) if len(diff) > 1 else np.nan
    mean = diff.mean() if len(diff) else np.nan
    lines.append(f"| {other} | {len(diff)} | {mean:+.4f} ± {se:.4f} | "
                 f"{int((diff > 0).sum())} of {len(diff)} |")
  return "\n".join(lines)


def _per_seed(results, key, ylabel, path):
  fig, ax = plt.subplots(figsize=(8, 3.5))
  for name, runs in results["runs"].get("study", {}).items():
    ok = sorted(_ok(runs), key=lambda r: r["seed"])
    ax.plot([r["seed"] for r in ok], [r[key] for r in ok], "o", ms=4, label=name)
  ax.set(xlabel="seed", ylabel=ylabel)
  ax.legend()
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)


def _latents(out, key, name, seed):
  """The saved latents of a seed: its task folder, or `latents/` of a migrated older run."""
  for path in (os.path.join(runner.task_folder(out, f"{key}/{name}/{seed}"), "latents.npz"),
               os.path.join(out, "latents", f"{key}_{name}_seed{seed}.npz")):
    if os.path.exists(path):
      return np.load(path)
  return None


def _visual(out, results, path):
  """The 2-D case: true sources and each model's latents, all on one data seed.

  The seed is the one the most models finished (the smallest on a tie), so every panel shows
  the same data; models without a 2-D run on that seed are left out.
  """
  runs = results["runs"].get("visual", {})
  by_seed = {}
  for name, rr in runs.items():
    for r in _ok(rr):
      lat = _latents(out, "visual", name, r["seed"])
      if lat is not None:
        by_seed.setdefault(int(r["seed"]), []).append((name, lat, r))
  if not by_seed:
    return False
  seed = min(by_seed, key=lambda s: (-len(by_seed[s]), s))
  panels = by_seed[seed]
  fig, axes = plt.subplots(1, len(panels) + 1, figsize=(3.2 * (len(panels) + 1), 3.2))
  first = panels[0][1]
  axes[0].scatter(*first["s"].T, c=first["segment"], s=2, cmap="tab10")
  axes[0].set_title(f"true sources (seed {seed})")
  for ax, (name, lat, r) in zip(axes[1:], panels):
    ax.scatter(*lat["z"].T, c=lat["segment"], s=2, cmap="tab10")
    ax.set_title(f"{name} (MCC {r['mcc']:.3f})")
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)
  return True


def _best_seed(out, results, path):
  rows = []
  for name, runs in results["runs"].get("study", {}).items():
    ok = _ok(runs)
    if ok:
      best = max(ok, key=lambda r: r["mcc"])
      lat = _latents(out, "study", name, best["seed"])
      if lat is not None:
        rows.append((name, best, lat))
  if not rows:
    return False
  dim = rows[0][2]["z"].shape[1]
  fig, axes = plt.subplots(len(rows), dim, figsize=(2.2 * dim, 2.2 * len(rows)), squeeze=False)
  for axs, (name, best, lat) in zip(axes, rows):
    zi, si, corr = match_sources(lat["z"], lat["s"])
    for ax, k in zip(axs, np.argsort(si)):
      ax.scatter(lat["s"][:, si[k]], lat["z"][:, zi[k]], s=1, alpha=0.4)
      ax.set_title(f"{name}: z{zi[k]} vs s{si[k]} (r={corr[k]:+.2f})", fontsize=8)
    axs[0].set_ylabel(f"seed {best['seed']}: recovered z")
  for ax in axes[-1]:
    ax.set_xlabel("true source")
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)
  return True


def write(out, results):
  """Writes results.md and the PNG figures into `out`; returns the markdown.

  Args:
    out: the study's folder.
    results: the runner's results dict (`tasks` keyed `<part>/<model>/<seed>`, `config`).

  Raises:
    ValueError: naming `results.json` if it holds no finished seed of the main study or no
      data settings.
  """
  _, config = runner.report_inputs(out, results, "study/<model>/<seed> task",
                                   keep=lambda key, result: key.startswith("study/")
                                   and key.count("/") == 2, config_keys=("data",))
  results = dict(results, runs=runs_of(results), data=config["data"])
  figures = ["mcc_per_seed.png", "final_loss_per_seed.png"]
  _per_seed(results, "mcc", "MCC", os.path.join(out, figures[0]))
  _per_seed(results, "final_loss", "final loss (nats)", os.path.join(out, figures[1]))
  if _visual(out, results, os.path.join(out, "visual_2d.png")):
    figures.append("visual_2d.png")
  if _best_seed(out, results, os.path.join(out, "best_seed_latents.png")):
    figures.append("best_seed_latents.png")
  d = results.get("data", {})
  md = [f"# iFlow vs iVAE identifiability study (preset `{results.get('preset')}`)", "",
        f"Data: {d.get('n_segments')} segments x {d.get('n_per_segment')} points, dim "
        f"{d.get('dim')}, {d.get('n_layers')} mixing layers. MCC on all N points "
        "(iVAE: posterior mean; also a posterior sample, the reference code's choice).", "",
        table(results), "", paired(results), ""] + [f"![{f}]({f})" for f in figures]
  md = "\n".join(md) + "\n"
  with open(os.path.join(out, "results.md"), "w") as f:
    f.write(md)
  return md
