"""Reference posteriors by MCMC: TFP's NUTS with dual-averaging step sizes, several chains, R-hat.

For simulators with a tractable likelihood (e.g. `SIR`), the true posterior
p(theta | x) for given observations is sampled with `tfp.mcmc.NoUTurnSampler`
(Hoffman & Gelman 2014) wrapped in `tfp.mcmc.TransformedTransitionKernel`
(the chains move in an unconstrained space through a bijector, e.g. `tfb.Exp`
for positive rates) and `tfp.mcmc.DualAveragingStepSizeAdaptation` (one step
size per observation). A batch of observations is sampled at once: the state
is `[chains, batch, P]`. Convergence is judged by the split R-hat
(`tfp.mcmc.potential_scale_reduction`, Gelman-Rubin); it is returned, with
`converged = max R-hat <= 1.05`, never hidden. The effective sample size is
`tfp.mcmc.effective_sample_size` (Geyer's initial positive sequence), computed on TFP's
NumPy backend.
"""
import dataclasses

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from tensorflow_probability.substrates import numpy as tfp_numpy

RHAT_LIMIT = 1.05


@dataclasses.dataclass
class Reference:
  """Result of `sample_posterior`.

  Attributes:
    samples: `[batch, chains * draws, P]` posterior draws (constrained space).
    rhat: `[batch, P]` split R-hat per observation and parameter.
    ess: `[batch, P]` effective sample size (summed over chains).
    step_size: `[batch]` adapted step sizes.
    accept_rate: `[batch]` mean acceptance probability after warm-up.
    converged: `[batch]` bool, max R-hat over parameters <= 1.05.
  """
  samples: np.ndarray
  rhat: np.ndarray
  ess: np.ndarray
  step_size: np.ndarray
  accept_rate: np.ndarray
  converged: np.ndarray


def sample_posterior(target_log_prob_fn, initial_state, bijector, num_results=500,
                     num_burnin=500, max_tree_depth=6, target_accept=0.75, seed=0,
                     jit_compile=True):
  """Samples a batch of posteriors with NUTS in an unconstrained space.

  Args:
    target_log_prob_fn: callable `theta [chains, batch, P] -> [chains, batch]`,
      the unnormalised log posterior in nats in the constrained space.
    initial_state: `[chains, batch, P]` starting points in the constrained
      space (overdispersed, e.g. prior draws), chains >= 2.
    bijector: `tfb.Bijector` from the unconstrained space to the support
      (e.g. `tfb.Exp()`).
    num_results: draws kept per chain (>= 2, even for the split R-hat).
    num_burnin: warm-up steps (80% of them adapt the step size).
    max_tree_depth: NUTS maximum tree depth (at most 2^depth leapfrog steps).
    target_accept: target acceptance probability of the step-size adaptation.
    seed: integer seed (stateless sampling).
    jit_compile: compile the sampler with XLA.

  Returns:
    `Reference` (NumPy arrays).

  Raises:
    ValueError: for fewer than 2 chains, a state that is not `[chains, batch,
      P]`, non-finite initial log densities, or non-positive sizes.
  """
  initial_state = tf.convert_to_tensor(initial_state)
  if initial_state.shape.rank != 3 or initial_state.shape[0] < 2:
    raise ValueError(f"initial_state: shape {tuple(initial_state.shape)}, expected "
                     "[chains >= 2, batch, P].")
  if num_results < 2 or num_burnin < 1 or max_tree_depth < 1:
    raise ValueError(f"num_results = {num_results} (>= 2), num_burnin = {num_burnin} (>= 1) "
                     f"and max_tree_depth = {max_tree_depth} (>= 1) expected.")
  if not 0 < target_accept < 1:
    raise ValueError(f"target_accept = {target_accept}: expected a probability in (0, 1).")
  initial_lp = target_log_prob_fn(initial_state)
  if not np.all(np.isfinite(initial_lp.numpy())):
    raise ValueError("target_log_prob_fn is not finite at every initial state.")
  batch = initial_state.shape[1]
  step = tf.fill([batch, 1], tf.constant(0.05, initial_state.dtype))
  kernel = tfp.mcmc.DualAveragingStepSizeAdaptation(
      tfp.mcmc.TransformedTransitionKernel(
          tfp.mcmc.NoUTurnSampler(target_log_prob_fn, step_size=step,
                                  max_tree_depth=max_tree_depth),
          bijector),
      num_adaptation_steps=int(0.8 * num_burnin), target_accept_prob=target_accept)

  @tf.function(jit_compile=jit_compile)
  def run(state, seed):
    return tfp.mcmc.sample_chain(
        num_results, state, kernel=kernel, num_burnin_steps=num_burnin, seed=seed,
        trace_fn=lambda _, r: (r.inner_results.inner_results.log_accept_ratio,
                               r.new_step_size))

  draws, (log_accept, step_sizes) = run(initial_state, tf.constant([seed, 0], tf.int32))
  rhat = tfp.mcmc.potential_scale_reduction(draws, independent_chain_ndims=1,
                                            split_chains=True).numpy()
  # The ESS on TFP's NumPy backend: the TF backend's autocorrelation (an FFT) turns its
  # complex result real by `tf.cast`, which logs "casting complex64 to float32" at each call;
  # the NumPy backend takes the real part with `np.real`. Same estimator; NumPy's FFT runs in
  # double precision, so values agree with the TF backend's to float32 rounding (~3e-7).
  ess = tfp_numpy.mcmc.effective_sample_size(draws.numpy()).sum(axis=0)
  accept = tf.reduce_mean(tf.exp(tf.minimum(log_accept, 0.0)), axis=(0, 1)).numpy()
  samples = tf.reshape(tf.transpose(draws, [2, 1, 0, 3]),
                       [batch, -1, draws.shape[-1]]).numpy()
  return Reference(samples=samples, rhat=rhat, ess=ess,
                   step_size=step_sizes[-1][:, 0].numpy(), accept_rate=accept,
                   converged=rhat.max(axis=-1) <= RHAT_LIMIT)


def sir_reference(task, x, num_chains=4, seed=0, **kwargs):
  """The reference posterior of an `SIR` task for observations `x [batch, days, 2]`.

  Chains start from prior draws and move in log space (`tfb.Exp`); see
  `sample_posterior` for the other arguments.

  Returns:
    `Reference`.

  Raises:
    ValueError: for observations of the wrong shape or with NaN (see
      `SIR.check_observations`), or see `sample_posterior`.
  """
  x = task.check_observations(x)
  if x.shape.rank != 3:
    raise ValueError(f"x: shape {tuple(x.shape)}, expected [batch, {task.days}, 2].")
  if int(num_chains) < 2:
    raise ValueError(f"num_chains = {num_chains}: expected >= 2 to compute R-hat.")
  init = task.prior().sample([int(num_chains), x.shape[0]], seed=seed + 1)
  prior = task.prior()

  def target(theta):
    return task.log_likelihood(x, theta, validate=False) + prior.log_prob(theta)

  return sample_posterior(target, init, tfp.bijectors.Exp(), seed=seed, **kwargs)
