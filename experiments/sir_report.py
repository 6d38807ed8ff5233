"""Table and figures of the SIR simulation-based-inference study (`experiments.sir`)."""
import os

import numpy as np

from experiments import runner

plt = runner.pyplot()


def _fmt(values, digits=2):
  return ", ".join(f"{v:.{digits}f}" for v in values)


def table(results):
  """Markdown rows: one per model task, with its reference's convergence."""
  tasks = results["tasks"]
  lines = ["| variant / model | C2ST (mean; per observation) | C2ST lambda1, lambda2 | "
           "coverage 50% | coverage 90% | SBC p-values | epochs x sims | train s | eval s | "
           "MCMC max R-hat |", "|---|---|---|---|---|---|---|---|---|---|"]
  for key in sorted(k for k in tasks if not k.startswith("reference/")):
    r, ref = tasks[key], tasks.get(f"reference/{key.split('/')[0]}", {})
    levels = r["coverage_levels"]
    cov = {lv: np.mean(c) for lv, c in zip(levels, r["coverage"])}
    pair = (f"{np.mean(r['c2st_lambda12']):.3f} ({_fmt(r['c2st_lambda12'])})"
            if r.get("c2st_lambda12") else "-")
    pvalues = ", ".join(f"{n} {p:.2g}" for n, p in zip(r["names"], r["sbc_pvalues"]))
    rhat = max(ref["max_rhat"]) if ref else float("nan")
    lines.append(
        f"| {key} | {np.mean(r['c2st']):.3f} ({_fmt(r['c2st'])}) | {pair} | {cov[0.5]:.3f} | "
        f"{cov[0.9]:.3f} | {pvalues} | {r.get('epochs', '?')} x {r.get('num_simulations', '?')} | "
        f"{r['train_seconds']:.0f} | {r['eval_seconds']:.0f} | "
        f"{rhat:.3f}{'' if all(ref.get('converged', [False])) else ' (NOT converged)'} |")
  return "\n".join(lines)


def figures(out, results):
  """SBC rank histograms, coverage curves, resimulation bands and pair plots; returns file names."""
  keys = sorted(k for k in results["tasks"] if not k.startswith("reference/"))
  config, names = results["config"], []
  posts = {k: np.load(os.path.join(runner.task_folder(out, k), "posterior.npz")) for k in keys}

  fig, axes = plt.subplots(len(keys), 3, figsize=(9, 2.2 * len(keys)), squeeze=False)
  for row, key in zip(axes, keys):
    ranks = posts[key]["ranks"]
    for p, ax in enumerate(row):
      if p >= ranks.shape[1]:
        ax.axis("off")
        continue
      ax.hist(ranks[:, p], bins=min(20, config["sbc_draws"] + 1),
              range=(0, config["sbc_draws"] + 1), color="C0")
      ax.axhline(len(ranks) / min(20, config["sbc_draws"] + 1), color="k", lw=0.8)
      ax.set_title(f"{key}: {results['tasks'][key]['names'][p]}", fontsize=8)
  names.append(_save(fig, out, "sbc_ranks.png"))

  fig, ax = plt.subplots(figsize=(4, 4))
  for key in keys:
    r = results["tasks"][key]
    ax.plot(r["coverage_levels"], np.mean(r["coverage"], axis=1), marker=".", label=key)
  ax.plot([0, 1], [0, 1], "k--", lw=0.8)
  ax.set(xlabel="credible level", ylabel="expected coverage", title="coverage (SBC draws)")
  ax.legend(fontsize=7)
  names.append(_save(fig, out, "coverage.png"))

  fig, axes = plt.subplots(len(keys), 2, figsize=(9, 2.2 * len(keys)), squeeze=False)
  for row, key in zip(axes, keys):
    band, x0 = posts[key]["band"], posts[key]["x0"]
    for c, (ax, label) in enumerate(zip(row, ("new infections", "removals"))):
      days = np.arange(1, len(x0) + 1)
      ax.fill_between(days, band[0, :, c], band[2, :, c], alpha=0.4, label="90% band")
      ax.plot(days, band[1, :, c], lw=0.8, label="median")
      ax.plot(days, x0[:, c], "k.", ms=2, label="observed")
      ax.set_title(f"{key}: {label}", fontsize=8)
  axes[0, 0].legend(fontsize=7)
  names.append(_save(fig, out, "resimulation.png"))

  for key in keys:
    variant = key.split("/")[0]
    ref = np.load(os.path.join(runner.task_folder(out, f"reference/{variant}"),
                               "reference.npz"))
    q, s, truth = posts[key]["q"][0], ref["samples"][0], ref["theta"][0]
    label = results["tasks"][key]["names"]
    dim = q.shape[1]
    fig, axes = plt.subplots(dim, dim, figsize=(2.2 * dim, 2.2 * dim), squeeze=False)
    for i in range(dim):
      for j in range(dim):
        ax = axes[i, j]
        if i == j:
          ax.hist(s[:, i], 30, density=True, alpha=0.5, label="MCMC")
          ax.hist(q[:, i], 30, density=True, alpha=0.5, label="NPE")
          ax.axvline(truth[i], color="k", lw=0.8)
        elif i > j:
          ax.plot(s[:, j], s[:, i], ".", ms=1, alpha=0.3, label="MCMC")
          ax.plot(q[:, j], q[:, i], ".", ms=1, alpha=0.3, label="NPE")
          ax.plot(truth[j], truth[i], "k+")
        else:
          ax.axis("off")
        if i == dim - 1:
          ax.set_xlabel(label[j])
    axes[0, 0].legend(fontsize=7)
    names.append(_save(fig, out, f"pairs_{key.replace('/', '_')}.png"))
  return names


def _save(fig, out, name):
  fig.tight_layout()
  fig.savefig(os.path.join(out, name), dpi=110)
  plt.close(fig)
  return name


def report(out, results):
  """Writes `results.md` and the figures into `out`; returns the markdown.

  Raises:
    ValueError: if no model task has finished.
  """
  runner.report_inputs(out, results, "SIR model task",
                       keep=lambda key, result: not key.startswith("reference/"))
  refs = {k: v for k, v in results["tasks"].items() if k.startswith("reference/")}
  ref_lines = [f"- {k}: max R-hat per observation {_fmt(v['max_rhat'], 3)}, min ESS "
               f"{_fmt(v['min_ess'], 0)}, converged {sum(v['converged'])}/{len(v['converged'])}, "
               f"{v['mcmc_seconds']:.0f} s" for k, v in sorted(refs.items())]
  text = "\n".join([f"# SIR simulation-based inference, preset {results['preset']}", "",
                    table(results), "", "Reference posteriors (NUTS):", *ref_lines, "",
                    *[f"![{n}]({n})" for n in figures(out, results)], ""])
  with open(os.path.join(out, "results.md"), "w") as f:
    f.write(text)
  return text
