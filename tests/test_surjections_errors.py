"""Bad input to surjection layers: clear errors naming the shape or value, never a silent NaN."""
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.layers import Abs, Augment, Max, MaxPool2D, Slice
from tfp_flows.surjections import (
    AugmentDistribution, DequantizationDistribution, SliceDistribution, SortDistribution)

tfd = tfp.distributions


def normal(shape):
  return tfd.Sample(tfd.Normal(0.0, 1.0), shape)


def test_abs_sample_with_negative_inner_raises_with_validate_args():
  with pytest.raises(ValueError, match="negative z"):
    Abs(2, validate_args=True).distribution(normal([2])).sample(100, seed=(1, 1))


def test_abs_log_prob_takes_either_sign():
  log_p = Abs(2).distribution(normal([2])).log_prob([[-3.0, 2.0], [0.0, -0.0]])
  assert np.all(np.isfinite(log_p))


def test_sort_sample_with_unsorted_inner_raises_with_validate_args():
  with pytest.raises(ValueError, match="unsorted"):
    SortDistribution(normal([3]), validate_args=True).sample(10, seed=(1, 1))


def test_dequantization_rejects_non_integer_and_out_of_range_values():
  dist = DequantizationDistribution(normal([2]), num_bits=3)
  for bad in ([[0.5, 1.0]], [[8.0, 1.0]], [[-1.0, 0.0]]):
    with pytest.raises(ValueError, match=r"integer values in \[0, 7\]"):
      dist.log_prob(bad)
  with pytest.raises(tf.errors.InvalidArgumentError, match="integer values"):
    tf.function(dist.log_prob)(tf.constant([[0.5, 1.0]]))


def test_maxpool_rejects_indivisible_spatial_size_and_wrong_inner():
  with pytest.raises(ValueError, match=r"5x4 .* divisible by pool_size 2"):
    MaxPool2D((5, 4, 3))
  with pytest.raises(ValueError, match=r"inner event shape \[2, 2, 3\]"):
    MaxPool2D((4, 4, 3)).distribution(normal([4, 4, 3]))


def test_slice_and_augment_reject_sizes_that_do_not_fit():
  with pytest.raises(ValueError, match="keep = 4 .* event_size = 3"):
    Slice(3, 4)
  with pytest.raises(ValueError, match=r"inner event shape \[d\] with 0 < d < D"):
    SliceDistribution(normal([3]), lambda z: normal([1]), event_size=3)
  with pytest.raises(ValueError, match=r"\[D \+ A\] with A > 0"):
    AugmentDistribution(normal([2]), lambda x: normal([1]), event_size=2)
  with pytest.raises(ValueError, match="augment_size"):
    Augment(2, 0)


def test_bad_parameters():
  with pytest.raises(ValueError, match=r"q must lie in \(0, 1\)"):
    Abs(2, q=1.0)
  with pytest.raises(ValueError, match="gap must be one of"):
    Max(3, gap="uniform")
  with pytest.raises(ValueError, match="event_size must be an integer >= 2, got 1"):
    Max(1)
  with pytest.raises(ValueError, match="built without a context"):
    Abs(2).distribution(normal([2]), context=tf.ones([1, 3]))


def test_max_far_below_gives_finite_log_prob():
  log_p = Max(3).distribution(tfd.Normal(0.0, 1.0)).log_prob([[0.0, -1e3, -1e4]])
  assert np.isfinite(log_p.numpy()).all()
