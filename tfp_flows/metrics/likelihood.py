"""Likelihood estimators: one-sample ELBO, importance-weighted log-likelihood, bits per dimension."""

import math

import numpy as np
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
    TypeError: if `num_samples` or `chunk_size` is not an integer.
    ValueError: if `num_samples` or `chunk_size` < 1.
  """
  for name, value in (("num_samples", num_samples), ("chunk_size", chunk_size)):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
      raise TypeError(f"log_likelihood: {name} must be an integer >= 1, got {value!r}.")
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
    num_dims: D, dimensions per example: a positive integer, or an example's
      shape (e.g. `(28, 28)` or `(28, 28, 1)`), whose product is taken.
    num_bits: optional bits per value of dequantized data scaled to [0, 1),
      a positive integer.

  Returns:
    Bits per dimension, same shape as `nats` (lower is better).

  Raises:
    TypeError: if `num_dims` is neither an integer nor a sequence of
      integers, or `num_bits` is not an integer.
    ValueError: if `num_dims` (or an entry of the shape) or `num_bits` is <= 0.
  """
  num_dims = _dimensions(num_dims)
  if num_bits is not None and (isinstance(num_bits, bool)
                               or not isinstance(num_bits, (int, np.integer))):
    raise TypeError(f"bits_per_dim: num_bits must be None or a positive integer, got "
                    f"{num_bits!r}.")
  if num_bits is not None and num_bits <= 0:
    raise ValueError(f"bits_per_dim: num_bits must be a positive integer, got {num_bits}.")
  bpd = -tf.convert_to_tensor(nats) / (num_dims * math.log(2.0))
  return bpd if num_bits is None else bpd + num_bits


def _dimensions(num_dims):
  """D as a positive int, from an int or a shape (the product of its entries)."""
  is_int = lambda v: isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
  if is_int(num_dims):
    shape = (num_dims,)
  elif isinstance(num_dims, (tuple, list, tf.TensorShape)) and all(is_int(v) for v in num_dims):
    shape = tuple(num_dims)
  else:
    raise TypeError(f"bits_per_dim: num_dims must be a positive integer or a shape of positive "
                    f"integers such as (28, 28), got {num_dims!r}.")
  if not shape or any(v <= 0 for v in shape):
    raise ValueError(f"bits_per_dim: num_dims must be positive (a shape: positive entries), "
                     f"got {num_dims!r}.")
  return int(np.prod(shape))
