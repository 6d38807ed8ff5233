"""Unnormalised 2-D energies of Rezende & Mohamed (2015), Table 1, and their log-normalisers by quadrature.

Each `U_k` maps points `z` of shape `[..., 2]` to energies `[...]` (nats);
the target density is `p(z) = exp(-U(z)) / Z`. They use TensorFlow ops:
a `tf.Tensor` (or `tf.Variable`) in gives a `tf.Tensor` out and works inside
`tf.function` and under `tf.GradientTape`; any other array-like in (NumPy,
lists) gives a NumPy array out (when executing eagerly). Log-sum-exp forms
keep `-log(exp(a) + exp(b))` finite far from the modes.

With `w1 = sin(2 pi z1 / 4)`, `w2 = 3 exp(-((z1 - 1) / 0.6)^2 / 2)`,
`w3 = 3 sigmoid((z1 - 1) / 0.3)`:

* U1 = ((||z|| - 2) / 0.4)^2 / 2 - log(exp(-((z1 - 2) / 0.6)^2 / 2) + exp(-((z1 + 2) / 0.6)^2 / 2))
* U2 = ((z2 - w1) / 0.4)^2 / 2
* U3 = -log(exp(-((z2 - w1) / 0.35)^2 / 2) + exp(-((z2 - w1 + w2) / 0.35)^2 / 2))
* U4 = -log(exp(-((z2 - w1) / 0.4)^2 / 2) + exp(-((z2 - w1 + w3) / 0.35)^2 / 2))

Only U1 is normalisable on R^2: U2-U4 do not grow in z1, so `exp(-U)`
has infinite mass along the z1 axis, and a flow fitted to them by reverse
KL keeps spreading along it. `confined(U)` adds a quadratic wall outside
the box [-4, 4]^2 that the paper's Figure 3 shows, which makes every target
normalisable and leaves U1 unchanged to within 1e-8 of its mass.
`log_normalizer` integrates `exp(-U)` over a box by quadrature.
"""
import math

import numpy as np
import tensorflow as tf


def _energy(fn, z):
  """Applies `fn(z1, z2)` to `z [..., 2]`, returning a tensor for tensor input, NumPy otherwise."""
  as_numpy = not (tf.is_tensor(z) or isinstance(z, tf.Variable)) and tf.executing_eagerly()
  z = tf.convert_to_tensor(z)
  if not z.dtype.is_floating:
    z = tf.cast(z, tf.float32)
  if z.shape[-1] is not None and z.shape[-1] != 2:
    raise ValueError(f"targets take points of shape [..., 2], got shape {tuple(z.shape)}.")
  out = fn(z[..., 0], z[..., 1])
  return out.numpy() if as_numpy else out


def _neg_log_add_exp(a, b):
  """`-log(exp(a) + exp(b))`, stable."""
  return -tf.reduce_logsumexp(tf.stack([a, b], axis=-1), axis=-1)


def _half_sq(v, scale):
  return 0.5 * tf.square(v / scale)


def _w1(z1):
  return tf.sin(2.0 * math.pi * z1 / 4.0)


def U1(z):
  """Ring with two modes: `((||z|| - 2)/0.4)^2/2 - log(exp(-((z1-2)/0.6)^2/2) + exp(-((z1+2)/0.6)^2/2))`.

  Args:
    z: `[..., 2]` points (tensor or array-like).

  Returns:
    `[...]` energies in nats (tensor for tensor input, NumPy otherwise).

  Raises:
    ValueError: if the last axis is not 2.
  """
  def fn(z1, z2):
    sq = tf.square(z1) + tf.square(z2)
    norm = tf.where(sq > 0, tf.sqrt(tf.where(sq > 0, sq, tf.ones_like(sq))), tf.zeros_like(sq))
    return _half_sq(norm - 2.0, 0.4) + _neg_log_add_exp(
        -_half_sq(z1 - 2.0, 0.6), -_half_sq(z1 + 2.0, 0.6))
  return _energy(fn, z)


def U2(z):
  """Sine wave: `((z2 - w1)/0.4)^2/2`, `w1 = sin(2 pi z1/4)`. Shapes, returns, raises: as `U1`."""
  return _energy(lambda z1, z2: _half_sq(z2 - _w1(z1), 0.4), z)


def U3(z):
  """Split sine wave: `-log(exp(-((z2-w1)/0.35)^2/2) + exp(-((z2-w1+w2)/0.35)^2/2))`.

  `w2 = 3 exp(-((z1 - 1)/0.6)^2/2)`. Shapes, returns, raises: as `U1`.
  """
  def fn(z1, z2):
    d = z2 - _w1(z1)
    w2 = 3.0 * tf.exp(-_half_sq(z1 - 1.0, 0.6))
    return _neg_log_add_exp(-_half_sq(d, 0.35), -_half_sq(d + w2, 0.35))
  return _energy(fn, z)


def U4(z):
  """Sine wave with a sigmoid step: `-log(exp(-((z2-w1)/0.4)^2/2) + exp(-((z2-w1+w3)/0.35)^2/2))`.

  `w3 = 3 sigmoid((z1 - 1)/0.3)`. Shapes, returns, raises: as `U1`.
  """
  def fn(z1, z2):
    d = z2 - _w1(z1)
    w3 = 3.0 * tf.sigmoid((z1 - 1.0) / 0.3)
    return _neg_log_add_exp(-_half_sq(d, 0.4), -_half_sq(d + w3, 0.35))
  return _energy(fn, z)


ENERGIES = {"U1": U1, "U2": U2, "U3": U3, "U4": U4}


def confined(energy, bound=4.0, width=0.1):
  """`energy(z) + sum_i max(0, |z_i| - bound)^2 / (2 width^2)`: a normalisable version of `energy`.

  Inside the box `[-bound, bound]^2` nothing changes; outside, the density
  falls like a Gaussian of standard deviation `width` per coordinate. Not
  in the paper, which states the energies only; see the module docstring.

  Args:
    energy: a callable like `U2`.
    bound: half-width of the box.
    width: length scale of the wall.

  Returns:
    A callable with the same input and output conventions as `energy`.
  """
  def wrapped(z):
    as_numpy = not (tf.is_tensor(z) or isinstance(z, tf.Variable)) and tf.executing_eagerly()
    u = energy(z)
    z = tf.convert_to_tensor(z, dtype=tf.convert_to_tensor(u).dtype)
    wall = tf.reduce_sum(tf.square(tf.nn.relu(tf.abs(z) - bound)), axis=-1) / (2 * width**2)
    return (u + wall.numpy()) if as_numpy else u + wall
  wrapped.__name__ = f"confined_{getattr(energy, '__name__', 'energy')}"
  return wrapped


def log_normalizer(energy, bound=4.0, num=2001):
  """`log Z = log of the integral of exp(-U)` over the box `[-bound, bound]^2`, trapezoid rule.

  The grid has `num` points per axis (spacing `2 bound / (num - 1)`), float64,
  summed in log space. For U1 the box [-4, 4]^2 holds all but about 1e-8 of
  the mass on R^2; for U2-U4 the box defines the target (see module doc).

  Args:
    energy: a callable like `U1`.
    bound: half-width of the box.
    num: grid points per axis (>= 2).

  Returns:
    `log Z` in nats, a Python float.

  Raises:
    ValueError: if `num < 2` or `bound <= 0`.
  """
  if num < 2 or bound <= 0:
    raise ValueError(f"need num >= 2 and bound > 0, got num={num}, bound={bound}.")
  t = np.linspace(-bound, bound, num)
  weights = np.full(num, t[1] - t[0])
  weights[[0, -1]] *= 0.5
  log_w = np.log(weights)
  grid = np.stack(np.meshgrid(t, t, indexing="ij"), axis=-1)
  log_f = -np.asarray(energy(tf.constant(grid, tf.float64)))
  return float(tf.reduce_logsumexp(log_f + log_w[:, None] + log_w[None, :]))
