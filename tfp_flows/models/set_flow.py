"""Shared base of the point-set flows (PermuteFlow, SortFlow, i.i.d.): input checks, loss, likelihood."""
import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.checks import check_int
from tfp_flows.layers.actnorm import ActNorm
from tfp_flows.layers.permutation import Permutation
from tfp_flows.layers.transformer_coupling import TransformerCoupling
from tfp_flows.metrics.likelihood import log_likelihood
from tfp_flows.surjections.base import is_exact

tfd = tfp.distributions


def transformer_steps(dim, num_couplings, width, num_heads, num_blocks, mlp_ratio=2,
                      num_positions=None, dtype=None):
  """`ActNorm`, then `num_couplings` x (`TransformerCoupling`, reverse `Permutation`): data side first.

  The permutation swaps which coordinates each coupling transforms. Equivariant over the points
  when `num_positions` is None. `dtype`: the layers' Keras dtype policy.
  """
  steps = [ActNorm(dim, dtype=dtype)]
  for _ in range(num_couplings):
    steps += [TransformerCoupling(dim, width=width, num_heads=num_heads, num_blocks=num_blocks,
                                  mlp_ratio=mlp_ratio, num_positions=num_positions, dtype=dtype),
              Permutation(dim, kind="reverse", dtype=dtype)]
  return steps


class SetFlow(keras.Model):
  """A density over sets of N points in D dimensions, trained by `fit` on `[M, N, D]` arrays.

  Subclasses build `distribution(training)`, a `tfd.Distribution` with event `[N, D]`;
  `is_exact` tells an exact `log_prob` from a one-sample bound. `call(x)` returns its
  `log_prob(x)` in nats per set, `[batch]`; the loss is its negative batch mean divided by N (nats per point). `fit`,
  `evaluate` and `log_likelihood` check the points first.

  Args:
    set_size: N >= 1.
    dim: D >= 1.
    **kwargs: passed to `keras.Model`.

  Raises:
    ValueError: for N or D < 1.
  """

  def __init__(self, set_size, dim=2, **kwargs):
    super().__init__(**kwargs)
    for name, value in (("set_size", set_size), ("dim", dim)):
      if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}.")
    self.set_size, self.dim = int(set_size), int(dim)
    self._log_likelihood_fns = {}  # num_samples -> tf.function traced once per batch shape

  def distribution(self, training=None):
    """The model's `tfd.Distribution` over sets `[N, D]`."""
    raise NotImplementedError

  def check_points(self, x):
    """Checks point sets before any work.

    Args:
      x: `[M, N, D]` array, or a `tf.data.Dataset` of such batches (its element shape only).

    Raises:
      ValueError: naming the shape or the first non-finite value and what was expected.
    """
    expected = f"[M, {self.set_size}, {self.dim}] (M sets of {self.set_size} points in " \
               f"{self.dim} dimensions)"
    if isinstance(x, tf.data.Dataset):
      spec = tf.nest.flatten(x.element_spec)[0]
      shape = tuple(spec.shape)
      if len(shape) != 3 or shape[1:] != (self.set_size, self.dim):
        raise ValueError(f"the dataset yields points of shape {shape}, expected {expected}.")
      return
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[1:] != (self.set_size, self.dim):
      raise ValueError(f"points have shape {x.shape}, expected {expected}.")
    bad = ~np.isfinite(x)
    if bad.any():
      idx = tuple(int(i) for i in np.argwhere(bad)[0])
      raise ValueError(f"points have {int(bad.sum())} non-finite values, e.g. points{list(idx)} "
                       f"= {x[idx]}.")

  def call(self, x, training=None):
    """`log_prob(x)` in nats per set, `[batch]` (a one-sample bound unless `is_exact`)."""
    return self.distribution(training).log_prob(x)

  def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
    return -tf.reduce_mean(y_pred) / self.set_size

  def fit(self, x=None, *args, **kwargs):
    """`keras.Model.fit` on point sets `[M, N, D]` after `check_points(x)`."""
    self.check_points(x)
    return super().fit(x, *args, **kwargs)

  def evaluate(self, x=None, *args, **kwargs):
    """`keras.Model.evaluate` after `check_points(x)`; the loss is in nats per point."""
    self.check_points(x)
    return super().evaluate(x, *args, **kwargs)

  def log_likelihood(self, x, num_samples=100, batch_size=500):
    """Test log-likelihood per set in nats, `[M]`: exact, or importance-weighted for a bound.

    Args:
      x: `[M, N, D]` points.
      num_samples: k passes for the importance-weighted estimate of a bound model
        (`tfp_flows.metrics.log_likelihood`); unused for an exact model.
      batch_size: sets per evaluation batch.

    Raises:
      TypeError: if `num_samples` or `batch_size` is not an integer.
      ValueError: if either is < 1, or from `check_points`.
    """
    num_samples = check_int(type(self).__name__, "num_samples", num_samples)
    batch_size = check_int(type(self).__name__, "batch_size", batch_size)
    self.check_points(x)
    if num_samples not in self._log_likelihood_fns:  # one trace serves every batch
      self._log_likelihood_fns[num_samples] = tf.function(
          lambda xb: log_likelihood(self.distribution(), xb, num_samples=num_samples,
                                    chunk_size=min(num_samples, 10)), reduce_retracing=True)
    fn = self._log_likelihood_fns[num_samples]
    return np.concatenate([fn(tf.constant(x[i:i + batch_size], self.compute_dtype)).numpy()
                           for i in range(0, len(x), batch_size)])

  @property
  def is_exact(self):
    """Whether `log_prob` is exact (`tfp_flows.surjections.is_exact` of the distribution)."""
    return is_exact(self.distribution())

  def sample(self, n, seed=None):
    """`n` sets `[n, N, D]` drawn from the model."""
    return self.distribution().sample(n, seed=seed)
