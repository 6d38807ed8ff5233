"""Total mass of a log-density: an importance-sampling check that a model's exp(log_prob) integrates to 1."""
import math

import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions


def monte_carlo_mass(dist, num_samples=200_000, fit_samples=20_000, inflation=2.0,
                     chunk_size=50_000, seed=0):
  """Estimates `integral exp(dist.log_prob(x)) dx` over the data space, with its standard error.

  Importance sampling from a Gaussian proposal q fitted to `fit_samples` of
  `dist.sample` (mean, covariance times `inflation`, so q's tails are wider
  than the model's): the estimate is the mean of `exp(log_prob(x) - log q(x))`
  over `num_samples` draws of q, the standard error its standard deviation
  over sqrt(num_samples). For a density the result is 1 up to the error; for
  a layer whose `log_prob` is approximate it measures how far from a density
  it is. Only sensible for small events (a handful to a few tens of entries).

  Args:
    dist: `tfd.Distribution` with `sample` and `log_prob`, float64 advised.
    num_samples: draws of the proposal.
    fit_samples: model samples used to fit the proposal.
    inflation: factor on the fitted covariance.
    chunk_size: proposal draws per batch.
    seed: int seed.

  Returns:
    `(mass, standard_error)` Python floats.

  Raises:
    ValueError: if a count is < 2 or `inflation` <= 0.
  """
  if min(num_samples, fit_samples, chunk_size) < 2 or inflation <= 0:
    raise ValueError(f"need num_samples, fit_samples, chunk_size >= 2 and inflation > 0, got "
                     f"{num_samples}, {fit_samples}, {chunk_size}, {inflation}.")
  fit_seed, draw_seed = tfp.random.split_seed(seed, n=2)
  event = dist.event_shape.as_list()
  size = math.prod(event)
  fit = tf.reshape(dist.sample(fit_samples, seed=fit_seed), [fit_samples, size])
  mean = tf.reduce_mean(fit, axis=0)
  cov = tfp.stats.covariance(fit) * inflation + 1e-6 * tf.eye(size, dtype=fit.dtype)
  proposal = tfd.MultivariateNormalTriL(mean, tf.linalg.cholesky(cov))
  total = total_sq = 0.0
  done = 0
  for i, seed_i in enumerate(tfp.random.split_seed(draw_seed, n=-(-num_samples // chunk_size))):
    count = min(chunk_size, num_samples - done)
    x = proposal.sample(count, seed=seed_i)
    weights = tf.exp(dist.log_prob(tf.reshape(x, [count, *event])) - proposal.log_prob(x))
    total += float(tf.reduce_sum(weights))
    total_sq += float(tf.reduce_sum(weights ** 2))
    done += count
  mass = total / done
  variance = max(total_sq / done - mass ** 2, 0.0)
  return mass, math.sqrt(variance / done)
