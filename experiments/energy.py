"""Rezende & Mohamed (2015), Sec. 6.1 and Figure 3: flows fitted to four 2-D energies by reverse KL.

Every model is `q = flow(N(0, I_2))`, trained with `model.fit` to minimise
`E_q[log q(z) + beta_t U(z)]`, `beta_t = min(1, 0.01 + t / anneal_steps)`
(the paper's annealing has anneal_steps = 10000), `t` the optimizer's
iteration count. U2-U4 are not normalisable on R^2 (a reverse-KL fit keeps
spreading along z1: 91% of q's mass left [-4, 4]^2 in a 10000-iteration
planar-32 fit to U3), so every target here is `targets.confined(U)`: U
inside the box [-4, 4]^2 of the paper's Figure 3, plus a quadratic wall of
width 0.1 outside it. Evaluation: `KL(q || p) = E_q[log q + U] + log Z` in
nats from `eval_samples` draws of q, with `log Z` by the trapezoid rule on
the 2501 x 2501 grid over [-5, 5]^2 (spacing 0.004; the wall makes the mass
beyond it < e^-50); q's mass outside [-4, 4]^2 is reported too.
"""
import functools
import json
import os
import time

import keras
import numpy as np
import tensorflow as tf

from experiments import runner
from tfp_flows import layers, targets
from tfp_flows.models import FlowVI

BOX = 4.0
PRESETS = {
    # The paper: 500000 iterations of batch 100, RMSProp (lr 1e-5, momentum 0.9),
    # anneal_steps 10000. Here: Adam with a larger rate and far fewer iterations.
    "quick": dict(iterations=1000, batch_size=100, learning_rate=3e-3, anneal_steps=300,
                  eval_samples=20000, models=("planar-8", "radial-8", "nice"),
                  targets=("U1", "U2", "U3", "U4")),
    "paper": dict(iterations=3000, batch_size=100, learning_rate=3e-3, anneal_steps=1000,
                  eval_samples=100000,
                  models=("planar-2", "planar-8", "planar-32", "radial-2", "radial-8",
                          "radial-32", "nice"),
                  targets=("U1", "U2", "U3", "U4")),
}
ENERGIES = {name: targets.confined(u, bound=BOX, width=0.1) for name, u in targets.ENERGIES.items()}
_log_z = functools.lru_cache(targets.log_normalizer)
NICE_HIDDEN = (13,)  # 4 couplings x 40 + scaling 2 = 162 parameters, vs 160 for planar-32


def is_model(name):
  """Whether `build_flow` knows `name`: `planar-K` or `radial-K` with K >= 1 steps, or `nice`."""
  kind, _, k = name.partition("-")
  return name == "nice" or (kind in ("planar", "radial") and k.isascii() and k.isdigit()
                            and int(k) >= 1)


def build_flow(name):
  """`planar-K`, `radial-K` or `nice` (4 alternating additive couplings, scaling) as a `Flow`.

  Raises:
    ValueError: for an unknown name (see `is_model`).
  """
  if not is_model(name):
    raise ValueError(f"unknown model {name!r}: expected planar-K, radial-K (K >= 1) or nice.")
  kind, _, k = name.partition("-")
  if name == "nice":
    # steps[0] meets the data first; NICE's scaling is the top (latent-side) layer.
    steps = [layers.AdditiveCoupling(2, hidden=NICE_HIDDEN, parity=i % 2)
             for i in range(4)] + [layers.Scaling(2)]
  else:
    steps = [(layers.Planar if kind == "planar" else layers.Radial)(2) for _ in range(int(k))]
  return layers.Flow(steps, event_size=2)


def evaluate(model, log_z, samples, chunk=10000):
  """Monte Carlo KL(q || p) from `samples` draws of q, in chunks of `chunk`.

  Args:
    model: a trained `tfp_flows.models.FlowVI`.
    log_z: log-normaliser of the model's energy, nats.
    samples: number of draws.
    chunk: draws per forward pass.

  Returns:
    `(kl, standard_error, mass_outside)`: KL(q || p) and its standard error in
    nats, and the share of draws outside the box [-4, 4]^2.
  """
  values, outside = [], []
  for start in range(0, samples, chunk):
    x, log_q = model.sample_and_log_prob(min(chunk, samples - start))
    values.append((log_q + model.energy(x)).numpy())
    outside.append(np.any(np.abs(x.numpy()) > BOX, axis=-1))
  values = np.concatenate(values)
  return (float(values.mean() + log_z), float(values.std() / np.sqrt(len(values))),
          float(np.concatenate(outside).mean()))


def density_grid(flow, num=200):
  """The density q of `flow` at the `num x num` cell centres of a grid over [-4, 4]^2.

  Args:
    flow: a `tfp_flows.layers.Flow` on 2-D events.
    num: cells per axis.

  Returns:
    `[num, num]` NumPy array; rows follow z2, columns z1 (for `imshow(origin="lower")`).
  """
  t = (np.arange(num) + 0.5) / num * 2 * BOX - BOX
  z1, z2 = np.meshgrid(t, t)
  grid = tf.constant(np.stack([z1, z2], -1).reshape(-1, 2), flow.compute_dtype)
  return np.exp(flow.distribution().log_prob(grid).numpy()).reshape(num, num)


def train_one(model_name, target, preset, seed=0, verbose=0, callbacks=()):
  """Trains one (model, target) with `model.fit` and evaluates it.

  Args:
    model_name: `planar-K`, `radial-K` or `nice`.
    target: `U1` .. `U4`.
    preset: a dict like `PRESETS["quick"]`.
    seed: seed of the initial weights and of the sampling.
    verbose: Keras fit verbosity.
    callbacks: more Keras callbacks for `fit` (the runner's TensorBoard and `FiniteGuard`).

  Returns:
    `(entry, density)`: the results entry (KL and its standard error in nats, mass outside
    the box, log Z, parameter count, iterations, wall seconds of `fit` including tracing,
    free energy per epoch) and `density_grid(flow)`.
  """
  keras.utils.set_random_seed(seed)
  flow = build_flow(model_name)
  model = FlowVI(flow, ENERGIES[target], preset["anneal_steps"],
                    preset["batch_size"], seed=seed)
  model.compile(optimizer=keras.optimizers.Adam(preset["learning_rate"]))
  epochs = 20
  per_epoch = max(1, preset["iterations"] // epochs)
  dummy = tf.data.Dataset.from_tensors(0.0).repeat()
  start = time.time()
  history = model.fit(dummy, epochs=epochs, steps_per_epoch=per_epoch, verbose=verbose,
                      shuffle=False, callbacks=list(callbacks))
  seconds = time.time() - start
  log_z = _log_z(ENERGIES[target], bound=BOX + 1.0, num=2501)
  kl, kl_se, outside = evaluate(model, log_z, preset["eval_samples"])
  entry = dict(model=model_name, target=target, kl=kl, kl_se=kl_se, mass_outside_box=outside,
               log_z=log_z, params=int(sum(np.prod(v.shape) for v in flow.trainable_variables)),
               iterations=int(model.optimizer.iterations.numpy()), seconds=seconds,
               free_energy_per_epoch=[float(v) for v in history.history["free_energy"]])
  return entry, density_grid(flow)


def add_arguments(parser):
  """Options beside the runner's (`--preset` quick | paper, `--out`, ...)."""
  runner.add_names(parser, "--models", "subset, e.g. planar-8 nice")
  runner.add_names(parser, "--targets", "subset of U1 U2 U3 U4")
  runner.add_count(parser, "--iterations", "override the preset (>= 1)")
  runner.add_seed(parser, "seed of weights and sampling, 0 .. 2**32-1")


def configure(args, preset):
  """The run config: the preset with `--iterations`, `--models`, `--targets`, `--seed` applied.

  Raises:
    ValueError: naming the option, for an unknown model or target, `--iterations` < 1 or a
      seed outside 0 .. 2**32 - 1.
  """
  runner.override_count(preset, args, "--iterations")
  preset["seed"] = runner.seed("--seed", args.seed)
  preset["models"] = runner.choices("--models", args.models or preset["models"], is_model,
                                    "planar-K, radial-K (K >= 1) or nice")
  preset["targets"] = runner.choices("--targets", args.targets or preset["targets"], ENERGIES)
  return preset


def tasks(config):
  """One task per (model, target): `"planar-8/U1"`."""
  return [f"{m}/{t}" for m in config["models"] for t in config["targets"]]


def run_task(key, config, ctx):
  """Trains and evaluates one (model, target); its density grid goes to `ctx.folder`."""
  model_name, target = key.split("/")
  entry, density = train_one(model_name, target, config, seed=config["seed"],
                             verbose=ctx.verbose, callbacks=ctx.callbacks())
  np.save(os.path.join(ctx.folder, "density.npy"), density.astype("float32"))
  return entry


def report(out, results):
  """Writes `results.md` (table) and `energy.png` (rows: targets; columns: exp(-U), then models).

  Args:
    out: a folder holding `results.json` and the task folders from `reproduce`.
    results: the runner's results dict.

  Returns:
    The markdown of `results.md`.

  Raises:
    ValueError: if `results` lacks the config or has no task.
  """
  runs, settings = runner.report_inputs(out, results, "energy task")
  plt = runner.pyplot()
  model_names = list(dict.fromkeys(r["model"] for r in runs.values()))
  target_names = [t for t in targets.ENERGIES if any(r["target"] == t for r in runs.values())]
  lines = [f"# Energy study ({results['preset']} preset)", "",
           f"Settings: {json.dumps(settings)}", "",
           "KL(q || p) in nats (+- standard error) to p = exp(-U - wall) / Z, the wall confining "
           "p to [-4, 4]^2; log Z by the trapezoid rule on a 2501 x 2501 grid over [-5, 5]^2; "
           "'out' = share of q's samples outside [-4, 4]^2; seconds = wall time of model.fit "
           "(tracing included) summed over the targets.", "",
           "| model | params | " + " | ".join(f"{t} KL | {t} out" for t in target_names)
           + " | iterations | seconds |",
           "|---" * (4 + 2 * len(target_names)) + "|"]
  for m in model_names:
    cells, first = [], None
    for t in target_names:
      r = runs.get(f"{m}/{t}")
      first = first or r
      cells.append("- | -" if r is None else
                   f"{r['kl']:.3f} +- {r['kl_se']:.3f} | {r['mass_outside_box']:.4f}")
    secs = sum(runs[f"{m}/{t}"]["seconds"] for t in target_names if f"{m}/{t}" in runs)
    lines.append(f"| {m} | {first['params']} | " + " | ".join(cells)
                 + f" | {first['iterations']} | {secs:.0f} |")
  markdown = "\n".join(lines) + "\n"
  with open(os.path.join(out, "results.md"), "w") as f:
    f.write(markdown)

  num = 200
  t = (np.arange(num) + 0.5) / num * 2 * BOX - BOX
  grid = np.stack(np.meshgrid(t, t), -1)
  fig, axes = plt.subplots(len(target_names), 1 + len(model_names), squeeze=False,
                           figsize=(1.6 * (1 + len(model_names)), 1.6 * len(target_names)))
  extent = (-BOX, BOX, -BOX, BOX)
  for i, tname in enumerate(target_names):
    true = np.exp(-ENERGIES[tname](grid.astype("float64")))
    axes[i, 0].imshow(true, origin="lower", extent=extent, cmap="viridis")
    axes[i, 0].set_ylabel(tname)
    for j, m in enumerate(model_names):
      file = os.path.join(runner.task_folder(out, f"{m}/{tname}"), "density.npy")
      if os.path.exists(file):
        axes[i, j + 1].imshow(np.load(file), origin="lower", extent=extent, cmap="viridis")
  for j, title in enumerate(["exp(-U)"] + model_names):
    axes[0, j].set_title(title, fontsize=8)
  for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
  fig.tight_layout()
  fig.savefig(os.path.join(out, "energy.png"), dpi=80)
  plt.close(fig)
  return markdown


STUDY = runner.Study("energy", PRESETS, configure, tasks, run_task, report,
                     add_arguments=add_arguments)
