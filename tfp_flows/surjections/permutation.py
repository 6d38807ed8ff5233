"""Stochastic permutation layer (SurVAE Sec. 4.1, "StochasticPermutation"), and TFP's bijective alternatives."""
import tensorflow as tf

from tfp_flows.surjections.base import SurjectiveDistribution, check_inner, check_vector_event


def random_permutation(v, seed, axis=-1):
  """Permutes one axis of `v` uniformly at random, independently for every other index.

  Args:
    v: tensor `[..., D]` (axis -1) or `[..., N, D]` (axis -2: the N rows, e.g. the points of
      a set, are permuted as wholes).
    seed: stateless seed.
    axis: -1 or -2.

  Returns:
    A tensor like `v`.
  """
  shape = tf.shape(v) if axis == -1 else tf.shape(v)[:-1]
  order = tf.argsort(tf.random.stateless_uniform(shape, seed), axis=-1)
  rank = len(v.shape)
  return tf.gather(v, order, axis=rank + axis, batch_dims=rank + axis)


def check_axis(axis, inner):
  """Checks the permuted event axis: -1 (vectors `[D]`) or -2 (sets `[N, D]`, rank 2 events).

  Raises:
    ValueError: naming `axis` and the inner event shape.
  """
  if axis not in (-1, -2) or len(inner.event_shape) != -axis:
    raise ValueError(f"axis must be -1 for an inner event [D] or -2 for an inner event [N, D] "
                     f"(points of a set), got axis={axis!r} and inner event shape "
                     f"{inner.event_shape}.")


class StochasticPermutationDistribution(SurjectiveDistribution):
  """Distribution of x = a fresh uniformly random permutation of z ~ inner.

  Both directions draw a new permutation of the last axis: data -> latent
  (`log_prob`) z = x permuted, latent -> data (`sample`) x = z permuted.
  Likelihood contribution (Nielsen et al. 2020, Sec. 4.1): `log p(x | z) -
  log q(z | x) = log(1/D!) - log(1/D!) = 0`, so `log_prob` is a one-sample
  lower bound on the log-density of the permutation mixture; it is exact when
  the inner distribution is permutation invariant. No learned parts.

  Fixed permutations, reshapes and axis transposes are bijections with unit
  Jacobian and need no wrapper: use `tfb.Permute(perm)` (or
  `tfp_flows.layers.Permutation`), `tfb.Reshape(event_shape_out,
  event_shape_in)` and `tfb.Transpose(perm=...)` inside a
  `tfd.TransformedDistribution`.

  With `axis=-2` the event is a set of N points `[N, D]` and the points (rows) are permuted
  (PermuteFlow on SpatialMNIST, Sec. 5.3); the bound is then tight when the inner density is
  exchangeable over the points, e.g. an i.i.d. base through permutation-equivariant steps.

  Shapes: x and z are `[..., D]` (axis -1) or `[..., N, D]` (axis -2).

  Args:
    inner: `tfd.Distribution` with event `[D]` (axis -1) or `[N, D]` (axis -2).
    axis: the permuted event axis, -1 or -2.
    name: name of the distribution.

  Raises:
    ValueError: for another axis, or one that does not match the inner event rank; in
      `log_prob`, for x whose event shape is not the inner one.
  """

  layer_is_exact = False

  def __init__(self, inner, axis=-1, name="stochastic_permutation"):
    parameters = dict(locals())
    check_inner("StochasticPermutationDistribution", inner)
    if axis == -1:
      check_vector_event("StochasticPermutationDistribution", inner,
                         "a vector event [D] to permute")
    check_axis(axis, inner)
    self._axis = axis
    super().__init__(inner, inner.event_shape, parameters=parameters, name=name)

  def _inference(self, x, seed):
    return (random_permutation(x, seed, self._axis),
            tf.zeros(tf.shape(x)[:len(x.shape) + self._axis], x.dtype))

  def _generate(self, z, seed):
    return random_permutation(z, seed, self._axis)
