"""Keras layer of variational dequantization (SurVAE Sec. 4.1; Flow++); the math is `tfp_flows.surjections.DequantizationDistribution`."""
import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.checks import check_int, check_ints
from tfp_flows.layers.step import check_context
from tfp_flows.layers.surjections.conditional import ConditionalLocScale
from tfp_flows.surjections.dequantization import DequantizationDistribution

tfd, tfb = tfp.distributions, tfp.bijectors


@keras.saving.register_keras_serializable(package="tfp_flows")
class VariationalDequantization(keras.layers.Layer):
  """Learned dequantization noise q(u | x, context): a conditional logistic pushed through a sigmoid.

  The noise flow is `u = delta + (1 - 2 delta) sigmoid(loc(x) + scale(x) * eps)`,
  eps ~ Logistic(0, 1), its location and scale an MLP of the centred input
  `2 x / (K - 1) - 1` (and the context): a one-step conditional flow onto
  (0, 1)^D (a simplification of Flow++'s coupling flow; Ho et al. 2019,
  Sec. 3.1). With loc = 0 and scale = 1 it is uniform dequantization up to the
  margin delta, and its density stays positive at the cell edges, unlike a
  sigmoid of a Gaussian, whose importance weights have infinite variance there.

  Numerics: a plain sigmoid rounds to 1 once its argument exceeds about 17 in
  float32, which puts z = (x + u) / K on the next cell's edge and made
  `log_prob` -inf. The margin `delta = K * eps` (eps the dtype's machine
  epsilon) keeps every u, and z = (x + u) / K after rounding, strictly inside
  its cell; `tfb.Sigmoid(low=delta, high=1 - delta)` supplies the matching
  density (its log-det includes `log(1 - 2 delta)`), evaluated at the drawn
  eps by `experimental_sample_and_log_prob`, never by inverting u.

  Args:
    event_size: D (x is `[..., D]`).
    num_bits: bits per value.
    context_size: C of the context the noise MLP sees, or None.
    hidden: hidden widths of the noise MLP.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: for non-integer sizes, bits or widths.
    ValueError: for a size, `num_bits` or width < 1, or more bits than the
      dtype can dequantize (`delta` >= 1/4).
  """

  def __init__(self, event_size, num_bits=8, context_size=None, hidden=(64,), **kwargs):
    super().__init__(**kwargs)
    owner = "VariationalDequantization"
    self.event_size = check_int(owner, "event_size", event_size)
    self.num_bits = check_int(owner, "num_bits", num_bits)
    self.context_size = check_int(owner, "context_size", context_size, optional=True)
    self.hidden = check_ints(owner, "hidden", hidden)
    self.margin = 2.0 ** self.num_bits * float(np.finfo(self.compute_dtype).eps)
    if self.margin >= 0.25:
      raise ValueError(f"{owner}: num_bits={num_bits} is too many for {self.compute_dtype}: "
                       f"u would need a margin of {self.margin} from 0 and 1.")
    self.noise_net = ConditionalLocScale(self.event_size, self.event_size, self.context_size,
                                         self.hidden, family="logistic",
                                         dtype=self.dtype_policy)
    self.built = True

  def noise(self, x, context=None):
    """q(u | x, context) as a `tfd.TransformedDistribution` over `[delta, 1 - delta]^D`."""
    centred = 2.0 * x / (2 ** self.num_bits - 1) - 1.0
    logistic = self.noise_net.distribution(centred, context=context)
    squash = tfb.Sigmoid(low=tf.constant(self.margin, logistic.dtype),
                         high=tf.constant(1.0 - self.margin, logistic.dtype))
    return tfd.TransformedDistribution(logistic, squash)

  def distribution(self, inner, context=None):
    """`DequantizationDistribution` with the learned noise, on `inner` over [0, 1)^D.

    Raises:
      ValueError: for a context that does not fit `context_size` (see `check_context`).
    """
    context = check_context(context, self.context_size, "VariationalDequantization")
    return DequantizationDistribution(inner, self.num_bits,
                                      noise=lambda x: self.noise(x, context))

  def get_config(self):
    return {**super().get_config(), "event_size": self.event_size,
            "num_bits": self.num_bits, "context_size": self.context_size,
            "hidden": self.hidden}
