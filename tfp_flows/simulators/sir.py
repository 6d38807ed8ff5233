"""SIR epidemic simulator with Poisson observations, batched over parameters (TF).

Model (Kermack & McKendrick 1927), fractions S + I + R = 1:
  dS/dt = -lambda S I,  dI/dt = lambda S I - mu I,  dR/dt = mu I,
integrated by forward Euler with step `dt` (0.1 day) for `days` (100) days from
S0 = 1 - I0, I0, R0 = 0. (The reproduction started from S0 = R0 = 0: with
S = 0 the infection term lambda S I vanishes, so no epidemic can start.)

Observations x `[..., days, 2]`: per day, the counts of new infections and of
removals in a population of N, each Poisson with mean N times the day's change
of S (decrease) and of R (increase), independent across days and channels.
The Poisson noise makes the likelihood `log p(x | theta)` tractable, so the
posterior is a proper density (the reproduction's noise-free series made it
degenerate); N is the noise scale (relative noise ~ 1 / sqrt(N * rate)).

Priors: log-normal rates as in the SIR task of the SBI benchmark (Lueckmann
et al. 2021, "Benchmarking Simulation-Based Inference", AISTATS, task "SIR"):
lambda ~ LogNormal(log 0.4, 0.5), mu ~ LogNormal(log 1/8, 0.2). The benchmark
observes a Binomial subsample of I over 160 days with N = 10^6; the
observation model here is ours (stated above). Degenerate variant: theta =
(lambda1, lambda2, mu) with lambda = lambda1 * lambda2 and
log lambda_k ~ N(log(0.4) / 2, 0.5 / sqrt 2) independently, so lambda has the
basic prior and only the product is identifiable.

Unconstrained space: the flows and MCMC work on u = log theta (a
`tfb.Exp` bijector maps u -> theta); the prior on u is a diagonal Normal.
"""
import math

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

tfb, tfd = tfp.bijectors, tfp.distributions

VARIANTS = {
  # name: (parameter names, prior loc of log theta, prior scale of log theta)
  "basic": (("lambda", "mu"), (math.log(0.4), math.log(1 / 8)), (0.5, 0.2)),
  "degenerate": (("lambda1", "lambda2", "mu"),
                 (math.log(0.4) / 2, math.log(0.4) / 2, math.log(1 / 8)),
                 (0.5 / math.sqrt(2), 0.5 / math.sqrt(2), 0.2)),
}


def _bad(name, value, expected):
  return ValueError(f"{name} = {value!r}: expected {expected}.")


class SIR:
  """The SIR simulation-based-inference task: prior, simulator and likelihood.

  Shapes: theta `[..., P]` with P = 2 (lambda, mu; "basic") or 3 (lambda1,
  lambda2, mu; "degenerate"), rates per day; observations `[..., days, 2]`
  (new infections, removals), counts.

  Args:
    variant: "basic" or "degenerate".
    population: N, the population size of the Poisson counts (> 0).
    initial_infected: I0, fraction in (0, 1).
    days: number of observed days (>= 1).
    dt: Euler step in days (> 0, dividing 1 day).
    dtype: float dtype of parameters and series.

  Raises:
    ValueError: for an unknown variant, a non-positive population, I0 outside
      (0, 1), days < 1, or dt that is not a positive divisor of one day.

  Example:
    >>> task = SIR("basic")
    >>> theta = task.prior().sample(4, seed=1)      # [4, 2]
    >>> x = task.simulate(theta, seed=2)            # [4, 100, 2]
    >>> task.log_likelihood(x, theta).shape          # [4]
  """

  def __init__(self, variant="basic", population=1000.0, initial_infected=0.01, days=100,
               dt=0.1, dtype=tf.float32):
    if variant not in VARIANTS:
      raise _bad("variant", variant, f"one of {sorted(VARIANTS)}")
    if not (np.isfinite(population) and population > 0):
      raise _bad("population", population, "a positive noise scale N (population size)")
    if not 0 < initial_infected < 1:
      raise _bad("initial_infected", initial_infected, "a fraction in (0, 1)")
    if int(days) < 1:
      raise _bad("days", days, "at least 1")
    steps = 1 / dt if dt > 0 else 0
    if dt <= 0 or abs(steps - round(steps)) > 1e-9:
      raise _bad("dt", dt, "a positive step dividing one day (e.g. 0.1)")
    self.variant, self.population = variant, float(population)
    self.initial_infected, self.days, self.dt = float(initial_infected), int(days), float(dt)
    self.steps_per_day = int(round(steps))
    self.dtype = tf.as_dtype(dtype)
    self.names, loc, scale = VARIANTS[variant]
    self.loc = tf.constant(loc, self.dtype)
    self.scale = tf.constant(scale, self.dtype)
    self._flat_trajectory = tf.function(
        self._euler, input_signature=[tf.TensorSpec([None, self.num_params], self.dtype)])

  @property
  def num_params(self):
    """P, the number of parameters (2 basic, 3 degenerate)."""
    return len(self.names)

  def prior(self):
    """Prior over theta: `tfd.Independent` log-normal rates, event `[P]`."""
    return tfd.Independent(tfd.LogNormal(self.loc, self.scale), 1)

  def unconstrained_prior(self):
    """Prior over u = log theta: `tfd.Independent` Normal, event `[P]`."""
    return tfd.Independent(tfd.Normal(self.loc, self.scale), 1)

  def rates(self, theta):
    """`(lambda, mu)`, each `[...]`, from theta `[..., P]` (lambda = lambda1 * lambda2 if degenerate)."""
    if self.variant == "basic":
      return theta[..., 0], theta[..., 1]
    return theta[..., 0] * theta[..., 1], theta[..., 2]

  def check_theta(self, theta):
    """Returns theta as a tensor; ValueError unless it is `[..., P]`, finite and positive (the prior's support)."""
    theta = tf.convert_to_tensor(theta, self.dtype)
    if theta.shape.rank is None or theta.shape.rank < 1 or theta.shape[-1] != self.num_params:
      raise _bad("theta", f"shape {tuple(theta.shape)}",
                 f"shape [..., {self.num_params}] ({', '.join(self.names)})")
    value = tf.get_static_value(theta)
    if value is not None and not np.all(np.isfinite(value) & (value > 0)):
      bad = value[~(np.isfinite(value) & (value > 0))].ravel()[:3]
      raise _bad("theta", f"entries {bad.tolist()}",
                 "finite positive rates (outside the log-normal prior's support)")
    return theta

  def check_observations(self, x):
    """Returns x as a tensor; ValueError unless it is `[..., days, 2]`, finite and non-negative."""
    x = tf.convert_to_tensor(x, self.dtype)
    if x.shape.rank is None or x.shape.rank < 2 or tuple(x.shape[-2:]) != (self.days, 2):
      raise _bad("x", f"shape {tuple(x.shape)}",
                 f"shape [..., {self.days}, 2] (days, (new infections, removals))")
    value = tf.get_static_value(x)
    if value is not None and not np.all(np.isfinite(value) & (value >= 0)):
      raise _bad("x", "an array with NaN, infinite or negative entries", "finite counts >= 0")
    return x

  def trajectory(self, theta):
    """Daily changes of the SIR fractions by forward Euler, vectorised over theta's batch.

    Args:
      theta: `[..., P]` positive rates (not validated; see `check_theta`).

    Returns:
      `[..., days, 2]`: per day, the decrease of S (new infections) and the
      increase of R (removals), fractions of the population.
    """
    flat = self._flat_trajectory(tf.reshape(theta, [-1, self.num_params]))
    return tf.reshape(flat, tf.concat([tf.shape(theta)[:-1], [self.days, 2]], 0))

  def _euler(self, theta):
    """`trajectory` for theta `[B, P]` (traced once per task)."""
    lam, mu = self.rates(theta)
    dt = tf.constant(self.dt, theta.dtype)
    s0 = tf.fill(tf.shape(lam), tf.constant(1 - self.initial_infected, theta.dtype))
    i0 = tf.fill(tf.shape(lam), tf.constant(self.initial_infected, theta.dtype))

    def day(state, _):
      s, i, _ = state
      new_inf = tf.zeros_like(s)
      new_rem = tf.zeros_like(s)
      for _ in range(self.steps_per_day):
        inf, rem = lam * s * i * dt, mu * i * dt
        s, i = s - inf, i + inf - rem
        new_inf, new_rem = new_inf + inf, new_rem + rem
      return s, i, tf.stack([new_inf, new_rem], axis=-1)

    init = (s0, i0, tf.zeros(tf.concat([tf.shape(lam), [2]], 0), theta.dtype))
    _, _, daily = tf.scan(day, tf.range(self.days), initializer=init)
    return tf.transpose(daily, [1, 0, 2])

  def observation_distribution(self, theta):
    """`tfd.Independent(tfd.Poisson(N * trajectory(theta)), 2)`, event `[days, 2]`."""
    rate = tf.maximum(self.population * self.trajectory(theta), 1e-12)
    return tfd.Independent(tfd.Poisson(rate=rate), 2)

  def simulate(self, theta, seed=None):
    """Draws observations `[..., days, 2]` (counts) for theta `[..., P]`.

    Raises:
      ValueError: for theta outside the prior's support or of the wrong width.
    """
    return self.observation_distribution(self.check_theta(theta)).sample(seed=seed)

  def log_likelihood(self, x, theta, validate=True):
    """`log p(x | theta)` in nats, shape: the broadcast of x's and theta's batch shapes.

    Args:
      x: `[..., days, 2]` counts.
      theta: `[..., P]` rates.
      validate: check shapes and values first (disable inside MCMC, which
        works in log space and cannot leave the support).

    Raises:
      ValueError: for x of the wrong length or with NaN, or theta outside the
        prior's support.
    """
    if validate:
      x, theta = self.check_observations(x), self.check_theta(theta)
    return self.observation_distribution(theta).log_prob(x)

  def unnormalized_log_posterior(self, x, u):
    """`log p(x | exp u) + log p_u(u)` for u = log theta `[..., P]` (x not validated); nats."""
    return (self.log_likelihood(x, tf.exp(u), validate=False)
            + self.unconstrained_prior().log_prob(u))
