"""Max surjection x -> max(x) over the last axis (SurVAE Sec. 4.1, "Max").

The Keras layer owning its learned parts is `tfp_flows.layers.Max`
(`tfp_flows/layers/surjections/max.py`).
"""
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.checks import check_choice
from tfp_flows.surjections.base import SurjectiveDistribution, check_inner

tfd = tfp.distributions

GAPS = ("half_normal", "exponential")


def gap_distribution(gap, scale):
  """The distribution of `max - x_j` for a non-maximal entry: half-normal or exponential of `scale`.

  Raises:
    ValueError: for a `gap` not in `GAPS`.
  """
  if check_choice("gap_distribution", "gap", gap, GAPS) == "half_normal":
    return tfd.HalfNormal(scale)
  return tfd.Exponential(1.0 / scale)


def _one_hot(index, depth):
  """Boolean `[..., depth]` mask of `index [...]`."""
  return tf.equal(index[..., None], tf.range(depth, dtype=index.dtype))


class MaxDistribution(SurjectiveDistribution):
  """Distribution of x with max(x) = z ~ inner: an argmax index and non-negative gaps.

  Data -> latent (the SurVAE paper's "forward"): z = max_d x_d over the last
  axis, deterministic. Latent -> data (`sample`): the argmax index k ~
  Categorical(logits), x_k = z, and x_j = z - g_j for j != k with gaps g_j
  drawn from a half-normal (or exponential) of scale s_j. Likelihood
  contribution (Nielsen et al. 2020, Sec. 4.1 and App. "Max pooling";
  reference `SimpleMaxPoolSurjection2d`, which fixes a uniform index):
  `log p(x | z) = log pi_k + sum_{j != k} log p_gap(z - x_j; s_j)`; exact.

  Shapes: x is `[..., *inner.event_shape, D]`, z is `[..., *inner.event_shape]`;
  `logits` and `scale` broadcast to `[batch..., *inner.event_shape, D]`.

  Args:
    inner: `tfd.Distribution` over z.
    logits: argmax-index logits, last axis D (its static size gives D).
    scale: positive gap scales, broadcastable to the logits.
    gap: `"half_normal"` or `"exponential"`.
    name: name of the distribution.

  Raises:
    ValueError: for an unknown `gap`, logits whose last axis D is unknown or
      < 2, logits or scale that do not broadcast to `[batch..., *inner.event_shape,
      D]`, or a known scale that is not positive.
  """

  def __init__(self, inner, logits, scale, gap="half_normal", name="max_surjection"):
    parameters = dict(locals())
    check_inner("MaxDistribution", inner)
    self._logits = tf.convert_to_tensor(logits, inner.dtype)
    self._scale = tf.convert_to_tensor(scale, inner.dtype)
    if (self._logits.shape.rank in (None, 0) or self._logits.shape[-1] is None
        or self._logits.shape[-1] < 2):
      raise ValueError(f"MaxDistribution: logits need a static last axis D >= 2, got shape "
                       f"{self._logits.shape}.")
    full = inner.batch_shape + inner.event_shape + [self._logits.shape[-1]]
    for arg, value in (("logits", self._logits), ("scale", self._scale)):
      try:
        tf.broadcast_static_shape(value.shape, full)
      except ValueError:
        raise ValueError(f"MaxDistribution: {arg} of shape {value.shape} does not broadcast "
                         f"to [batch..., *inner.event_shape, D] = {full}.") from None
    known = tf.get_static_value(self._scale)
    if known is not None and not np.all(known > 0):
      raise ValueError(f"MaxDistribution: scale must be positive, got {known}.")
    self._gap = gap
    gap_distribution(gap, self._scale)
    super().__init__(inner, inner.event_shape + [self._logits.shape[-1]],
                     parameters=parameters, name=name)

  def _inference(self, x, seed):
    z = tf.reduce_max(x, axis=-1)
    is_max = _one_hot(tf.argmax(x, axis=-1), x.shape[-1])
    log_index = tf.reduce_sum(
        tf.where(is_max, tf.nn.log_softmax(self._logits), tf.zeros([], x.dtype)), axis=-1)
    gaps = gap_distribution(self._gap, self._scale).log_prob(z[..., None] - x)
    log_p = log_index + tf.reduce_sum(tf.where(is_max, tf.zeros([], x.dtype), gaps), axis=-1)
    axes = list(range(-self._inner.event_shape.rank, 0))
    return z, tf.reduce_sum(log_p, axis=axes)

  def _generate(self, z, seed):
    index_seed, gap_seed = tfp.random.split_seed(seed, n=2)
    shape = tf.concat([tf.shape(z), [self.event_shape[-1]]], axis=0)
    gumbel = -tf.math.log(-tf.math.log(
        tf.random.stateless_uniform(shape, index_seed, minval=1e-7, maxval=1.0, dtype=z.dtype)))
    is_max = _one_hot(tf.argmax(self._logits + gumbel, axis=-1), self.event_shape[-1])
    gap = gap_distribution(self._gap, tf.broadcast_to(self._scale, shape))
    return tf.where(is_max, z[..., None], z[..., None] - gap.sample(seed=gap_seed))
