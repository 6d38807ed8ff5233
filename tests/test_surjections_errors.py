"""Bad input to surjections and their layers: a clear error naming the argument, the value and
what was expected, before any work; never a silent NaN or a raw TensorFlow error."""
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows import layers
from tfp_flows.metrics.likelihood import bits_per_dim, log_likelihood
from tfp_flows.surjections import (
    AbsDistribution, AugmentDistribution, DequantizationDistribution, MaxDistribution,
    SliceDistribution, SortDistribution, StochasticPermutationDistribution, VAEDistribution,
    max_pool_distribution)

tfd = tfp.distributions


def normal(shape):
  return tfd.Sample(tfd.Normal(0.0, 1.0), shape)


def decoder(z):
  return normal([1])


def test_abs_sample_with_negative_inner_raises_with_validate_args():
  with pytest.raises(ValueError, match=r"AbsDistribution.sample: z must be >= 0 .*, got "
                                       r"z\[\d+, \d+\] = -[\d.]+ \(\d+ of 200 entries are not\); "
                                       r"make the inner"):
    layers.Abs(2, validate_args=True).distribution(normal([2])).sample(100, seed=(1, 1))


def test_abs_log_prob_takes_either_sign():
  log_p = layers.Abs(2).distribution(normal([2])).log_prob([[-3.0, 2.0], [0.0, -0.0]])
  assert np.all(np.isfinite(log_p))


def test_sort_sample_with_unsorted_inner_raises_with_validate_args():
  with pytest.raises(ValueError, match=r"SortDistribution.sample: dz must be >= 0 .*, got "
                                       r"dz\[\d+, \d+\] = -[\d.]+ .*tfb.Ascending"):
    SortDistribution(normal([3]), validate_args=True).sample(10, seed=(1, 1))


def test_dequantization_rejects_non_integer_and_out_of_range_values():
  dist = DequantizationDistribution(normal([2]), num_bits=3)
  for bad in ([[0.5, 1.0]], [[8.0, 1.0]], [[-1.0, 0.0]]):
    with pytest.raises(ValueError, match=r"DequantizationDistribution.log_prob: x must be integer "
                       rf"values in \[0, 7\] \(8 bins\), got x\[0, 0\] = {bad[0][0]} \(1 of 2"):
      dist.log_prob(bad)
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=r"DequantizationDistribution.log_prob: x must be integer values"):
    tf.function(dist.log_prob)(tf.constant([[0.5, 1.0]]))


@pytest.mark.parametrize("dist, x, message", [
    (SortDistribution(normal([3])), np.zeros([2, 4]),
     r"SortDistribution.log_prob: x has shape \(2, 4\), expected \[..., 3\]"),
    (layers.Slice(3, keep=2).distribution(normal([2])), np.zeros([1, 5]),
     r"SliceDistribution.log_prob: x has shape \(1, 5\), expected \[..., 3\]"),
    (layers.Abs(2).distribution(normal([2])), np.zeros([3]),
     r"AbsDistribution.log_prob: x has shape \(3,\), expected \[..., 2\]"),
    (layers.UniformDequantization(2).distribution(normal([2, 2])), np.zeros([1, 2, 3]),
     r"x has shape \(1, 2, 3\), expected \[..., 2, 2\]"),
], ids=["sort_width", "slice_width", "abs_width", "dequantization_shape"])
def test_log_prob_rejects_x_of_the_wrong_event_shape(dist, x, message):
  with pytest.raises(ValueError, match=message):
    dist.log_prob(x)


@pytest.mark.parametrize("make, error, message", [
    # Distributions.
    (lambda: SortDistribution(tfd.Normal(0.0, 1.0)), ValueError,
     r"SortDistribution: inner must be a distribution with a vector event \[D\] to sort, got "
     r"event shape \(\)"),
    (lambda: SortDistribution("z"), TypeError, "SortDistribution: inner must be a tfd.Distribution"),
    (lambda: StochasticPermutationDistribution(normal([2, 2])), ValueError,
     r"vector event \[D\] to permute, got event shape \(2, 2\)"),
    (lambda: AbsDistribution(normal([2]), np.zeros(3)), ValueError,
     r"AbsDistribution: logits of shape \(3,\) do not broadcast against .*\(2,\)"),
    (lambda: AbsDistribution(np.zeros(2), 0.0), TypeError, "AbsDistribution: inner must be"),
    (lambda: AugmentDistribution(normal([4]), "encoder", 2), TypeError,
     "AugmentDistribution: encoder must be a callable .* got 'encoder'"),
    (lambda: AugmentDistribution(normal([4]), decoder, 0), ValueError,
     "AugmentDistribution: event_size must be an integer >= 1, got 0"),
    (lambda: AugmentDistribution(normal([2]), decoder, 2), ValueError, r"\[D \+ A\] with A > 0"),
    (lambda: SliceDistribution(normal([1]), "decoder", 3), TypeError,
     "SliceDistribution: decoder must be a callable"),
    (lambda: SliceDistribution(normal([3]), decoder, 3), ValueError,
     r"inner event shape \[d\] with 0 < d < D"),
    (lambda: DequantizationDistribution(normal([2]), num_bits=0), ValueError,
     "DequantizationDistribution: num_bits must be an integer >= 1, got 0"),
    (lambda: DequantizationDistribution(normal([2]), num_bits=2.5), TypeError,
     "num_bits must be an integer >= 1, got 2.5 of type float"),
    (lambda: DequantizationDistribution(normal([2]), noise=0.5), TypeError,
     "noise must be a callable"),
    (lambda: MaxDistribution(tfd.Normal(0.0, 1.0), np.zeros(1), np.ones(1)), ValueError,
     r"logits need a static last axis D >= 2, got shape \(1,\)"),
    (lambda: MaxDistribution(tfd.Normal(0.0, 1.0), np.zeros(3), np.ones(2)), ValueError,
     r"scale of shape \(2,\) does not broadcast to .*\(3,\)"),
    (lambda: MaxDistribution(tfd.Normal(0.0, 1.0), np.zeros(2), [1.0, -1.0]), ValueError,
     r"scale must be positive, got \[ 1. -1.\]"),
    (lambda: MaxDistribution(tfd.Normal(0.0, 1.0), np.zeros(2), np.ones(2), gap="uniform"),
     ValueError, "gap must be one of"),
    (lambda: VAEDistribution(normal([1]), "encoder", decoder, [1]), TypeError,
     "VAEDistribution: encoder must be a callable"),
    (lambda: VAEDistribution(normal([1]), decoder, decoder, [0]), ValueError,
     r"VAEDistribution: event_shape\[0\] must be an integer >= 1, got 0"),
    (lambda: max_pool_distribution(normal([4, 4, 3]), np.zeros([3, 4]), np.ones([3, 1]),
                                   (4, 4, 3), 2), ValueError, r"inner event shape \[2, 2, 3\]"),
    # Layers.
    (lambda: layers.Abs(0), ValueError, "Abs: event_size must be an integer >= 1, got 0"),
    (lambda: layers.Abs(2.5), TypeError, "Abs: event_size must be an integer >= 1, got 2.5"),
    (lambda: layers.Abs(2, q=1.0), ValueError, r"Abs: q must lie in \(0, 1\), got 1.0"),
    (lambda: layers.Abs(2, q="half"), TypeError, r"Abs: q must be a number in \(0, 1\)"),
    (lambda: layers.Abs(2, learn_q="yes"), TypeError, "Abs: learn_q must be True or False"),
    (lambda: layers.Abs(2, context_size=0), ValueError,
     "Abs: context_size must be an integer >= 1 or None, got 0"),
    (lambda: layers.Augment(2, 0), ValueError, "Augment: augment_size must be an integer >= 1"),
    (lambda: layers.Augment(0, 2), ValueError, "Augment: event_size must be an integer >= 1"),
    (lambda: layers.Augment(2, 2, context_size=3), ValueError,
     "Augment: context_size=3 needs learned=True"),
    (lambda: layers.Augment(2, 2, learned=True, hidden=(8, 0)), ValueError,
     r"Augment: hidden\[1\] must be an integer >= 1, got 0"),
    (lambda: layers.Augment(2, 2, learned=True, hidden=8), TypeError,
     "Augment: hidden must be a sequence of integers"),
    (lambda: layers.Slice(3, 4), ValueError, "Slice: keep = 4 must satisfy 0 < keep < event_size = 3"),
    (lambda: layers.Slice(3, 0), ValueError, "Slice: keep must be an integer >= 1, got 0"),
    (lambda: layers.Slice(1, 1), ValueError, "Slice: event_size must be an integer >= 2, got 1"),
    (lambda: layers.Slice(3, "1"), TypeError, "Slice: keep must be an integer >= 1, got '1'"),
    (lambda: layers.Max(1), ValueError, "Max: event_size must be an integer >= 2, got 1"),
    (lambda: layers.Max(3, gap="uniform"), ValueError, "gap must be one of"),
    (lambda: layers.MaxPool2D((5, 4, 3)), ValueError, r"5x4 .* divisible by pool_size 2"),
    (lambda: layers.MaxPool2D((4, 4)), ValueError, r"input_shape must be \(H, W, C\), got \(4, 4\)"),
    (lambda: layers.MaxPool2D((4, 4, 3), pool_size=1), ValueError,
     "MaxPool2D: pool_size must be an integer >= 2, got 1"),
    (lambda: layers.MaxPool2D((4, 4, 3), pool_size=2.0), TypeError,
     "MaxPool2D: pool_size must be an integer >= 2, got 2.0"),
    (lambda: layers.UniformDequantization(num_bits=-1), ValueError,
     "UniformDequantization: num_bits must be an integer >= 1, got -1"),
    (lambda: layers.UniformDequantization(num_bits="8"), TypeError,
     "UniformDequantization: num_bits must be an integer >= 1, got '8'"),
    (lambda: layers.VariationalDequantization(2, num_bits=0), ValueError,
     "VariationalDequantization: num_bits must be an integer >= 1, got 0"),
    (lambda: layers.VariationalDequantization(2, num_bits=22), ValueError,
     "num_bits=22 is too many for float32"),
    (lambda: layers.VariationalDequantization(0), ValueError,
     "VariationalDequantization: event_size must be an integer >= 1, got 0"),
    (lambda: layers.VAE("encoder", layers.ConditionalLocScale(2, 1), (2,)), TypeError,
     r"VAE: encoder must be a layer with a method distribution\(inputs, context=None\)"),
    (lambda: layers.VAE(layers.ConditionalLocScale(1, 2), layers.ConditionalLocScale(2, 1), 2),
     TypeError, "VAE: event_shape must be a sequence of integers >= 1, got 2"),
    (lambda: layers.ConditionalLocScale(0, 2), ValueError,
     "ConditionalLocScale: event_size must be an integer >= 1, got 0"),
    (lambda: layers.ConditionalLocScale(1, 2, family="gamma"), ValueError,
     "ConditionalLocScale: family must be one of"),
    (lambda: layers.ConditionalLocScale(1, 2, min_scale=-1.0), ValueError,
     "ConditionalLocScale: min_scale must be a number >= 0, got -1.0"),
])
def test_constructors_name_the_argument_the_value_and_what_was_expected(make, error, message):
  with pytest.raises(error, match=message):
    make()


@pytest.mark.parametrize("make, context, message", [
    (lambda: layers.Max(3), tf.ones([1, 2]), "Max was built without a context"),
    (lambda: layers.MaxPool2D((4, 4, 1)), tf.ones([1, 2]), "MaxPool2D was built without a context"),
    (lambda: layers.UniformDequantization(3), tf.ones([1, 2]),
     "UniformDequantization was built without a context"),
    (lambda: layers.Slice(3, 1), tf.ones([1, 2]), "Slice was built without a context"),
    (lambda: layers.Abs(2), tf.ones([1, 3]), "Abs was built without a context"),
    (lambda: layers.Abs(2, context_size=2), None, r"Abs needs a context of shape \[..., 2\]"),
    (lambda: layers.Slice(3, 1, context_size=2), tf.ones([1, 3]),
     r"Slice expects a context of shape \[..., 2\], got shape \(1, 3\)"),
    (lambda: layers.Augment(2, 2, learned=True), tf.ones([1, 2]),
     "Augment was built without a context"),
    (lambda: layers.VariationalDequantization(2), tf.ones([1, 2]),
     "VariationalDequantization was built without a context"),
    (lambda: layers.VAE(layers.ConditionalLocScale(1, 2), layers.ConditionalLocScale(2, 1), (2,)),
     tf.ones([1, 2]), "VAE was built without a context"),
])
def test_one_context_rule_for_every_surjection_layer(make, context, message):
  with pytest.raises(ValueError, match=message):
    make().distribution(normal([1]), context=context)


def test_bits_per_dim_checks_and_accepts_a_shape():
  nats = -3 * 784 * np.log(2.0)
  np.testing.assert_allclose(bits_per_dim(nats, (28, 28)), 3.0)
  np.testing.assert_allclose(bits_per_dim(nats, (28, 28, 1)), bits_per_dim(nats, 784))
  with pytest.raises(ValueError, match=r"num_dims must be positive .* got 0"):
    bits_per_dim(nats, 0)
  with pytest.raises(ValueError, match=r"num_dims must be positive .* got -784"):
    bits_per_dim(nats, -784)
  with pytest.raises(ValueError, match=r"got \(28, 0\)"):
    bits_per_dim(nats, (28, 0))
  with pytest.raises(TypeError, match="num_dims must be a positive integer or a shape .* got 2.5"):
    bits_per_dim(nats, 2.5)
  with pytest.raises(ValueError, match="num_bits must be a positive integer, got 0"):
    bits_per_dim(nats, 784, num_bits=0)


def test_log_likelihood_rejects_non_integer_counts():
  with pytest.raises(TypeError, match="num_samples must be an integer >= 1, got 10.0"):
    log_likelihood(normal([2]), np.zeros([1, 2]), num_samples=10.0)


def test_max_far_below_gives_finite_log_prob():
  log_p = layers.Max(3).distribution(tfd.Normal(0.0, 1.0)).log_prob([[0.0, -1e3, -1e4]])
  assert np.isfinite(log_p.numpy()).all()
