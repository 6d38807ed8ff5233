"""Simulation-based inference on an SIR epidemic: NPE flows against an MCMC reference posterior.

Simulator and priors: `tfp_flows.simulators.SIR` (Euler, 100 days, Poisson
counts of daily new infections and removals for a population N; log-normal
rates from the SBI benchmark's SIR task, Lueckmann et al. 2021). Variants:
"basic" (lambda, mu) and "degenerate" (lambda1, lambda2, mu with lambda =
lambda1 * lambda2). Tasks:

* `reference/<variant>`: `num_observations` test observations (theta* from the
  prior, x simulated) and their reference posteriors by NUTS
  (`simulators.sir_reference`, R-hat reported per observation);
* `<variant>/<model>`: `models.NPE` ("flow": coupling + permutation + LU steps;
  "survae": the same flow under the Slice product surjection, degenerate only)
  trained by `model.fit` on `num_simulations` simulated pairs (tf.data), then
  C2ST against the reference (SBI benchmark protocol, `metrics.c2st`), SBC
  ranks and uniformity p-values and expected coverage over `sbc_observations`
  fresh simulations (`metrics.sbc_ranks`, `sbc_uniformity`,
  `expected_coverage`), and resimulation bands for the first observation.
Table and figures: `experiments.sir_report`.
"""
import os
import time

import keras
import numpy as np
import tensorflow as tf

from experiments import runner
from experiments.sir_report import report
from tfp_flows.metrics import c2st, expected_coverage, sbc_ranks, sbc_uniformity
from tfp_flows.models import NPE
from tfp_flows.simulators import SIR, sir_reference, simulation_dataset

MODELS = {"basic": ("flow",), "degenerate": ("flow", "survae")}
LEVELS = [round(0.05 * k, 2) for k in range(1, 20)]  # coverage curve; 0.5 and 0.9 in the table
COMMON = dict(population=1000.0, initial_infected=0.01, coupling="affine", summary="mlp",
              summary_hidden=[200, 200, 200], context_size=100, learning_rate=1e-3,
              batch_size=256, clipnorm=5.0, seed=0)
PRESETS = {
  "quick": dict(COMMON, num_observations=2, mcmc_results=40, mcmc_burnin=40, mcmc_chains=2,
                mcmc_depth=3, mcmc_jit=True, num_simulations=512, epochs=2, num_steps=2,
                hidden=[16], summary_hidden=[32], context_size=8, batch_size=128,
                sbc_observations=20, sbc_draws=19, posterior_draws=100, resim_draws=20,
                variants=["basic", "degenerate"]),
  "cpu": dict(COMMON, num_observations=5, mcmc_results=500, mcmc_burnin=500, mcmc_chains=4,
              mcmc_depth=6, mcmc_jit=True, num_simulations=40000, epochs=30, num_steps=10,
              hidden=[64, 64], sbc_observations=300, sbc_draws=199, posterior_draws=1000,
              resim_draws=200, variants=["basic", "degenerate"]),
  # The reproduction's configuration: 30 steps, MLP summary [200, 200, 200] -> 100.
  "paper": dict(COMMON, num_observations=10, mcmc_results=1000, mcmc_burnin=1000,
                mcmc_chains=4, mcmc_depth=7, mcmc_jit=True, num_simulations=100000,
                epochs=100, num_steps=30, hidden=[128, 128], sbc_observations=1000,
                sbc_draws=499, posterior_draws=2000, resim_draws=500,
                variants=["basic", "degenerate"]),
}


def add_arguments(parser):
  """The study's options: `--variants`, `--epochs`, `--seed`."""
  runner.add_names(parser, "--variants", f"some of {sorted(MODELS)}")
  runner.add_count(parser, "--epochs", "training epochs (overrides the preset)")
  runner.add_seed(parser, "seed of observations, simulations and models")


def configure(args, preset):
  """The run config: the preset with `--variants`, `--epochs`, `--seed` applied.

  Raises:
    ValueError: naming the option, for an unknown variant, epochs < 1 or a bad seed.
  """
  runner.override_count(preset, args, "--epochs")
  preset["seed"] = runner.seed("--seed", args.seed)
  preset["variants"] = runner.choices("--variants", args.variants or preset["variants"], MODELS)
  return preset


def tasks(config):
  """`reference/<variant>` and `<variant>/<model>` for each variant."""
  keys = [f"reference/{v}" for v in config["variants"]]
  return keys + [f"{v}/{m}" for v in config["variants"] for m in MODELS[v]]


def depends(key, config):
  """A model task needs its variant's reference task."""
  variant, _ = key.split("/")
  return [] if variant == "reference" else [f"reference/{variant}"]


def make_task(variant, config):
  """The `SIR` task of a variant with the config's population and I0."""
  return SIR(variant, population=config["population"],
             initial_infected=config["initial_infected"])


def run_reference(variant, config, ctx):
  """Test observations and their NUTS reference posteriors; arrays saved in `ctx.folder`."""
  task, seed = make_task(variant, config), config["seed"]
  theta = task.prior().sample(config["num_observations"], seed=[seed, 101])
  x = task.simulate(theta, seed=[seed, 102])
  start = time.time()
  ref = sir_reference(task, x, num_chains=config["mcmc_chains"], seed=seed,
                      num_results=config["mcmc_results"], num_burnin=config["mcmc_burnin"],
                      max_tree_depth=config["mcmc_depth"], jit_compile=config["mcmc_jit"])
  np.savez(os.path.join(ctx.folder, "reference.npz"), theta=theta.numpy(), x=x.numpy(),
           samples=ref.samples)
  return dict(max_rhat=ref.rhat.max(axis=1).tolist(), converged=ref.converged.tolist(),
              min_ess=ref.ess.min(axis=1).tolist(), accept_rate=ref.accept_rate.tolist(),
              step_size=ref.step_size.tolist(), mcmc_seconds=time.time() - start,
              theta=theta.numpy().tolist())


def training_data(task, config, batch_size=None):
  """The study's `num_simulations` training pairs (`simulation_dataset`, seed + 7), batched."""
  return simulation_dataset(task.prior(), task.simulate, config["num_simulations"],
                            batch_size or config["batch_size"], seed=config["seed"] + 7)


def build_model(task, model_name, config):
  """The compiled `NPE` of a model task ("flow" or "survae"), seeded by the config's seed."""
  seed = config["seed"]
  keras.utils.set_random_seed(seed)
  model = NPE(task.loc.numpy(), task.scale.numpy(), task.days, num_steps=config["num_steps"],
              coupling=config["coupling"], hidden=config["hidden"], summary=config["summary"],
              summary_hidden=config["summary_hidden"], context_size=config["context_size"],
              product_surjection=model_name == "survae", seed=seed)
  model.compile(optimizer=keras.optimizers.Adam(config["learning_rate"],
                                                clipnorm=config["clipnorm"]))
  return model


def c2st_against_reference(samples, q, seed, columns=None):
  """C2ST per observation between reference `samples [O, M, P]` and draws `q [O, n, P]`.

  As the study: n of the M reference draws picked at random (seed), both sets
  restricted to `columns` (all when None), `metrics.c2st` per observation.
  """
  n = q.shape[1]
  pick = np.random.default_rng(seed).choice(samples.shape[1], n, replace=False)
  cols = slice(None) if columns is None else columns
  return [c2st(samples[i, pick][:, cols], q[i][:, cols], seed=seed) for i in range(len(q))]


def train(task, model_name, config, ctx):
  """An `NPE` fitted on `num_simulations` pairs; returns (model, history, seconds)."""
  ds = training_data(task, config)
  model = build_model(task, model_name, config)
  start = time.time()
  history = model.fit(ds, epochs=config["epochs"], verbose=ctx.verbose, shuffle=False,
                      callbacks=ctx.callbacks())
  return model, history.history["loss"], time.time() - start


def draw(model, x, n, seed, chunk=50):
  """Posterior draws `[len(x), n, P]` in chunks of observations."""
  return np.concatenate([model.sample(x[i:i + chunk], n, seed=[seed, i]).numpy()
                         for i in range(0, len(x), chunk)])


def run_model(variant, model_name, config, ctx):
  """Trains one NPE and evaluates it: C2ST vs the reference, SBC, coverage, resimulation.

  Draws, SBC ranks, the first observation and its resimulation band (5/50/95%
  quantiles) go to `ctx.folder/posterior.npz`; returns the JSON-safe metrics.
  """
  task, seed = make_task(variant, config), config["seed"]
  model, losses, train_seconds = train(task, model_name, config, ctx)
  start = time.time()
  ref = np.load(os.path.join(ctx.folder_of(f"reference/{variant}"), "reference.npz"))
  n = min(config["posterior_draws"], ref["samples"].shape[1])
  q = draw(model, ref["x"], n, seed + 11)
  c2st_all = c2st_against_reference(ref["samples"], q, seed)
  c2st_pair = (c2st_against_reference(ref["samples"], q, seed, columns=slice(0, 2))
               if variant == "degenerate" else None)
  sbc_theta = task.prior().sample(config["sbc_observations"], seed=[seed, 201])
  sbc_x = task.simulate(sbc_theta, seed=[seed, 202]).numpy()
  sbc_q = draw(model, sbc_x, config["sbc_draws"], seed + 13)
  ranks = sbc_ranks(sbc_q, sbc_theta.numpy())
  coverage = expected_coverage(sbc_q, sbc_theta.numpy(), LEVELS)
  resim = task.simulate(q[0, :config["resim_draws"]], seed=[seed, 301]).numpy()
  np.savez(os.path.join(ctx.folder, "posterior.npz"), q=q, ranks=ranks, x0=ref["x"][0],
           band=np.quantile(resim, [0.05, 0.5, 0.95], axis=0))
  return dict(c2st=c2st_all, c2st_lambda12=c2st_pair, loss=losses,
              sbc_pvalues=sbc_uniformity(ranks, config["sbc_draws"]).tolist(),
              coverage_levels=LEVELS, coverage=coverage.tolist(),
              resim_inside_90=float(np.mean((ref["x"][0] >= np.quantile(resim, 0.05, axis=0))
                                            & (ref["x"][0] <= np.quantile(resim, 0.95, axis=0)))),
              train_seconds=train_seconds, eval_seconds=time.time() - start,
              epochs=config["epochs"], num_simulations=config["num_simulations"],
              names=list(task.names))


def run_task(key, config, ctx):
  """Runs `reference/<variant>` or `<variant>/<model>`."""
  variant, name = key.split("/")
  if variant == "reference":
    return run_reference(name, config, ctx)
  return run_model(variant, name, config, ctx)


STUDY = runner.Study("sir", PRESETS, configure, tasks, run_task, report,
                     add_arguments=add_arguments, depends=depends)
