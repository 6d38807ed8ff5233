"""Max surjection x -> max(x) over the last axis (SurVAE Sec. 4.1, "Max")."""
import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.surjections.base import SurjectiveDistribution

tfd = tfp.distributions

GAPS = ("half_normal", "exponential")


def gap_distribution(gap, scale):
  """The distribution of `max - x_j` for a non-maximal entry: half-normal or exponential of `scale`.

  Raises:
    ValueError: for a `gap` not in `GAPS`.
  """
  if gap == "half_normal":
    return tfd.HalfNormal(scale)
  if gap == "exponential":
    return tfd.Exponential(1.0 / scale)
  raise ValueError(f"gap must be one of {GAPS}, got {gap!r}.")


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
    ValueError: for an unknown `gap`, or logits whose last axis is unknown.
  """

  def __init__(self, inner, logits, scale, gap="half_normal", name="max_surjection"):
    parameters = dict(locals())
    self._logits = tf.convert_to_tensor(logits, inner.dtype)
    self._scale = tf.convert_to_tensor(scale, inner.dtype)
    if self._logits.shape.rank == 0 or self._logits.shape[-1] is None:
      raise ValueError(f"logits need a static last axis D, got shape {self._logits.shape}.")
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


@keras.saving.register_keras_serializable(package="tfp_flows")
class Max(keras.layers.Layer):
  """Keras layer owning the index logits and log gap scales of a `MaxDistribution`.

  Args:
    event_size: D, the size of the reduced last axis.
    gap: `"half_normal"` or `"exponential"`.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    ValueError: for `event_size < 2` or an unknown `gap`.
  """

  def __init__(self, event_size, gap="half_normal", **kwargs):
    super().__init__(**kwargs)
    if int(event_size) < 2:
      raise ValueError(f"Max needs event_size >= 2, got {event_size}.")
    gap_distribution(gap, 1.0)
    self.event_size, self.gap = int(event_size), gap
    self.logits = self.add_weight(name="logits", shape=(self.event_size,),
                                  initializer="zeros")
    self.log_scale = self.add_weight(name="log_scale", shape=(self.event_size,),
                                     initializer="zeros")
    self.built = True

  def distribution(self, inner, context=None):
    """`MaxDistribution` on `inner` (event `[]` for x `[D]`); `context` is accepted and ignored."""
    return MaxDistribution(inner, self.logits, tf.exp(self.log_scale), gap=self.gap)

  def call(self, x):
    """Data -> latent: returns `max(x)` over the last axis."""
    return tf.reduce_max(x, axis=-1)

  def get_config(self):
    return {**super().get_config(), "event_size": self.event_size, "gap": self.gap}
