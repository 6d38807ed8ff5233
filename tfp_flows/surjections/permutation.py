"""Stochastic permutation layer (SurVAE Sec. 4.1, "StochasticPermutation"), and TFP's bijective alternatives."""
import tensorflow as tf

from tfp_flows.surjections.base import SurjectiveDistribution, check_vector_event


def random_permutation(v, seed):
  """Permutes the last axis of `v [..., D]` uniformly at random, independently per row."""
  order = tf.argsort(tf.random.stateless_uniform(tf.shape(v), seed), axis=-1)
  return tf.gather(v, order, batch_dims=len(v.shape) - 1)


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

  Shapes: x and z are `[..., D]`.

  Args:
    inner: `tfd.Distribution` with event `[D]`.
    name: name of the distribution.

  Raises:
    ValueError: if `inner`'s event is not a vector `[D]`; in `log_prob`, for x
      whose last axis is not D.
  """

  layer_is_exact = False

  def __init__(self, inner, name="stochastic_permutation"):
    parameters = dict(locals())
    check_vector_event("StochasticPermutationDistribution", inner, "a vector event [D] to permute")
    super().__init__(inner, inner.event_shape, parameters=parameters, name=name)

  def _inference(self, x, seed):
    return random_permutation(x, seed), tf.zeros(tf.shape(x)[:-1], x.dtype)

  def _generate(self, z, seed):
    return random_permutation(z, seed)
