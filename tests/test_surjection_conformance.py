"""Every surjection of tfp_flows through the one conformance helper (`conformance.check_surjection`)."""
import inspect
import itertools

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfp_flows.layers.surjections
import tfp_flows.surjections
from conformance import SurjectionCase, check_surjection
from tfp_flows import layers
from tfp_flows.surjections import SortDistribution, StochasticPermutationDistribution

tfd, tfb = tfp.distributions, tfp.bijectors
COV = np.array([[1.0, 0.6, 0.5, 0.0], [0.6, 1.0, 0.0, 0.3],
                [0.5, 0.0, 1.0, 0.2], [0.0, 0.3, 0.2, 1.0]])
CELLS = np.array([[0.0, 1.0], [3.0, 2.0], [3.0, 3.0]])  # 2-bit values for dequantization


def normal(shape, loc=0.0, scale=1.0):
  return lambda dtype: tfd.Sample(tfd.Normal(tf.constant(loc, dtype), scale), shape)


def positive(dtype):
  """A density on (0, inf)^2: a shifted, scaled Gaussian through a softplus."""
  return tfd.TransformedDistribution(normal([2])(dtype), tfb.Chain([
      tfb.Softplus(), tfb.Shift(tf.constant([0.3, -0.4], dtype)),
      tfb.Scale(tf.constant([0.8, 1.3], dtype))]))


def ascending(dtype):
  return tfd.TransformedDistribution(
      normal([2])(dtype), tfb.Chain([tfb.Ascending(), tfb.Scale(tf.constant([1.2, 0.7], dtype))]))


def gaussian(cov):
  return lambda dtype: tfd.MultivariateNormalTriL(
      tf.zeros(len(cov), dtype), tf.constant(np.linalg.cholesky(cov), dtype))


def asymmetric(dtype):
  """Not permutation invariant, so the stochastic permutation's bound is strict."""
  return tfd.MultivariateNormalDiag(tf.constant([1.0, -0.5, 0.0], dtype),
                                    tf.constant([0.5, 1.0, 1.5], dtype))


def beta(dtype):
  return tfd.Sample(tfd.Beta(tf.constant(2.0, dtype), 3.0), 2)


def points(shape, seed=0):
  return lambda: np.random.default_rng(seed).normal(size=shape)


def cell_log_probability(x, layer):
  """log P(x) of 2-bit data under Beta(2, 3)^2 on [0, 1): differences of the CDF."""
  b = tfd.Beta(np.float64(2.0), 3.0)
  return np.log(b.cdf((x + 1) / 4) - b.cdf(x / 4)).sum(-1)


def permutation_mixture(x):
  """log (1/D!) sum over permutations of inner(x permuted), by enumeration."""
  perms = list(itertools.permutations(range(3)))
  terms = [asymmetric("float64").log_prob(tf.gather(x, p, axis=-1)) for p in perms]
  return tf.reduce_logsumexp(tf.stack(terms), 0) - np.log(len(perms))


def vae_marginal(x, layer):
  """log p(x) = log int N(z; 0, 1) p(x | z) dz of the layer's decoder, by quadrature on z."""
  z = np.linspace(-10, 10, 4001)[:, None]
  log_joint = (tfd.Normal(np.float64(0), 1.0).log_prob(z[:, 0])[:, None]
               + layer.decoder.distribution(z).log_prob(x[:, None, :]).numpy().T)
  return tf.reduce_logsumexp(log_joint, 0) + np.log(z[1, 0] - z[0, 0])


CASES = [
    SurjectionCase("abs", ("AbsDistribution", "Abs"), positive, points([6, 2]),
                   layer=lambda dtype: layers.Abs(2, q=0.3, dtype=dtype), grid=(8.0, 240)),
    SurjectionCase("abs_context", ("Abs",), positive, points([6, 2]),
                   layer=lambda dtype: layers.Abs(2, context_size=2, dtype=dtype),
                   context_size=2, grid=(8.0, 240)),
    SurjectionCase("sort", ("SortDistribution",), ascending, points([6, 2]),
                   wrap=SortDistribution, grid=(8.0, 240)),
    SurjectionCase("max", ("MaxDistribution", "Max"), normal([], 0.5, 1.5), points([6, 2]),
                   layer=lambda dtype: layers.Max(2, dtype=dtype), grid=(12.0, 300)),
    SurjectionCase("max_exponential", ("Max",), normal([]), points([6, 2]),
                   layer=lambda dtype: layers.Max(2, gap="exponential", dtype=dtype),
                   grid=(12.0, 300)),
    SurjectionCase("maxpool", ("max_pool_distribution", "blocks_to_image", "MaxPool2D"),
                   normal([1, 1, 1]), points([6, 2, 2, 1]),
                   layer=lambda dtype: layers.MaxPool2D((2, 2, 1), dtype=dtype),
                   proposal=lambda: tfd.Sample(tfd.StudentT(np.float64(3), -0.3, 1.0),
                                               [2, 2, 1])),
    SurjectionCase("slice", ("SliceDistribution", "Slice", "ConditionalLocScale"), normal([1]),
                   points([6, 2]), context_size=2, grid=(12.0, 300),
                   layer=lambda dtype: layers.Slice(2, 1, context_size=2, hidden=(8,),
                                                    dtype=dtype)),
    SurjectionCase("channel_slice", ("ChannelSlice",), normal([1, 1, 1]), points([4, 1, 1, 2]),
                   layer=lambda dtype: layers.ChannelSlice((1, 1, 2), 1, filters=4, num_blocks=0,
                                                           context_size=2, dtype=dtype),
                   context_size=2, grid=(10.0, 200)),
    SurjectionCase("maxpool_overlap",
                   ("OverlappingMaxPoolDistribution", "pooling_windows", "MaxPool2DOverlap"),
                   normal([2, 2, 1]), points([4, 5, 5, 1]),
                   layer=lambda dtype: layers.MaxPool2DOverlap((5, 5, 1), 3, 2, dtype=dtype),
                   approximate=True),
    SurjectionCase("augment", ("AugmentDistribution", "Augment"), gaussian(COV), points([3, 2]),
                   layer=lambda dtype: layers.Augment(2, 2, learned=True, context_size=2,
                                                      hidden=(8,), dtype=dtype),
                   context_size=2, scale=0.1,
                   log_likelihood=lambda x, _: gaussian(COV[:2, :2])("float64").log_prob(x)),
    SurjectionCase("uniform_dequantization",
                   ("DequantizationDistribution", "UniformDequantization"), beta, lambda: CELLS,
                   layer=lambda dtype: layers.UniformDequantization(2, dtype=dtype),
                   log_likelihood=cell_log_probability),
    SurjectionCase("variational_dequantization", ("VariationalDequantization",), beta,
                   lambda: CELLS, scale=0.1, log_likelihood=cell_log_probability,
                   layer=lambda dtype: layers.VariationalDequantization(2, num_bits=2, hidden=(8,),
                                                                        dtype=dtype)),
    SurjectionCase("vae", ("VAEDistribution", "VAE"), normal([1]), points([3, 2]),
                   layer=lambda dtype: layers.VAE(
                       layers.ConditionalLocScale(1, 2, hidden=(8,), dtype=dtype),
                       layers.ConditionalLocScale(2, 1, hidden=(8,), dtype=dtype), (2,),
                       dtype=dtype),
                   log_likelihood=vae_marginal),
    SurjectionCase("stochastic_permutation", ("StochasticPermutationDistribution",), asymmetric,
                   points([3, 3]), wrap=StochasticPermutationDistribution,
                   log_likelihood=lambda x, _: permutation_mixture(x)),
]
NON_SURJECTIONS = {"SurjectiveDistribution", "is_exact"}  # the base class and a predicate


def exported(module):
  return {name for name, obj in vars(module).items()
          if not name.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
          and obj.__module__.startswith(module.__name__)}


def test_every_surjection_has_a_case():
  covered = {name for case in CASES for name in case.covers}
  wanted = (exported(tfp_flows.surjections) - NON_SURJECTIONS) | exported(
      tfp_flows.layers.surjections)
  assert wanted, "no exports found"
  assert not wanted - covered, f"surjections without a conformance case: {sorted(wanted - covered)}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_surjection(case, tmp_path):
  check_surjection(case, tmp_path)
