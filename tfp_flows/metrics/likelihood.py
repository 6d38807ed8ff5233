"""Likelihood estimators: one-sample ELBO, importance-weighted log-likelihood, bits per dimension."""

import math

import tensorflow as tf

from tfp_flows.surjections.base import is_exact


def elbo(dist, x):
  """One-sample lower bound `dist.log_prob(x)` of a bound model (exact for an exact model).

  Args:
    dist: `tfd.Distribution` (e.g. with surjection wrappers) over x.
    x: `[batch, *event_shape]` data.

  Returns:
    `[batch]` tensor in nats.
  """
  return dist.log_prob(x)


def log_likelihood(dist, x, num_samples=1000, chunk_size=100):
  """Importance-weighted log-likelihood: logmeanexp of k independent `log_prob` passes.

  For a model whose `log_prob` is a one-sample bound `log p(x, z) - log q(z|x)`
  with fresh z per call, `log (1/k) sum_i exp(log_prob_i)` is the
  importance-weighted bound (Burda et al. 2016), increasing in k towards
  log p(x) (Nielsen et al. 2020, Sec. 2.2). Exact models (`is_exact(dist)`)
  return `dist.log_prob(x)` directly. The k passes run `chunk_size` at a time
  on x repeated `chunk_size` times and are combined by a running logsumexp, so
  memory is that of `chunk_size * batch` log_prob evaluations for any k.

  Args:
    dist: `tfd.Distribution` over x.
    x: `[batch, *event_shape]` data.
    num_samples: k >= 1.
    chunk_size: passes per chunk (the last chunk may be smaller).

  Returns:
    `[batch]` tensor in nats.

  Raises:
    ValueError: if `num_samples` or `chunk_size` < 1.
  """
  if num_samples < 1 or chunk_size < 1:
    raise ValueError(
      f"num_samples and chunk_size must be >= 1, got {num_samples} and {chunk_size}."
    )
  x = tf.convert_to_tensor(x, dist.dtype)
  if is_exact(dist):
    return dist.log_prob(x)

  def chunk(count):
    reps = tf.repeat(x[None], count, axis=0)
    flat = tf.reshape(reps, tf.concat([[-1], tf.shape(x)[1:]], 0))
    log_p = tf.reshape(dist.log_prob(flat), [count, -1])
    return tf.reduce_logsumexp(log_p, axis=0)

  # Eagerly, one traced function serves every chunk (each call draws fresh noise). Inside a
  # caller's tf.function the chunks are built as separate ops: calls of one nested function
  # would replay the same stateful random draws, making every chunk a copy of the first.
  if not tf.inside_function():
    chunk = tf.function(chunk)

  total, done = None, 0
  while done < num_samples:
    count = min(chunk_size, num_samples - done)
    part = chunk(count)
    total = part if total is None else tf.reduce_logsumexp(tf.stack([total, part]), axis=0)
    done += count
  return total - tf.constant(math.log(num_samples), total.dtype)


def bits_per_dim(nats, num_dims, num_bits=None):
  """Bits per dimension `-nats / (num_dims log 2)` of a log-likelihood in nats.

  Dequantization convention: a log-likelihood from a
  `tfp_flows.surjections.DequantizationDistribution` already includes the
  `-D log 2^bits` term and is a bound on the discrete log-probability; pass
  `num_bits=None`. For a continuous log-density of z = (x + u) / 2^bits on
  [0, 1)^D computed without that wrapper, pass `num_bits` to add the offset
  `num_bits` bits per dimension (-D log 2^bits nats).

  Args:
    nats: log-likelihood(s) in nats, any shape.
    num_dims: D, dimensions per example.
    num_bits: optional bits per value of dequantized data scaled to [0, 1).

  Returns:
    Bits per dimension, same shape as `nats` (lower is better).
  """
  bpd = -tf.convert_to_tensor(nats) / (num_dims * math.log(2.0))
  return bpd if num_bits is None else bpd + num_bits
