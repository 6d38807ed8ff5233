"""Keras layer (no variables) of uniform dequantization (SurVAE Sec. 4.1); the math is `tfp_flows.surjections.DequantizationDistribution`."""
import keras

from tfp_flows.checks import check_int
from tfp_flows.layers.step import check_context
from tfp_flows.surjections.dequantization import DequantizationDistribution


@keras.saving.register_keras_serializable(package="tfp_flows")
class UniformDequantization(keras.layers.Layer):
  """Layer form (no variables) of uniform dequantization, for stacking like the learned layers.

  Takes no context (`context_size` is None): `distribution` rejects one.

  Args:
    num_bits: bits per value; x takes values in {0, ..., 2^bits - 1}.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: for a non-integer `num_bits`.
    ValueError: for `num_bits < 1`.
  """

  context_size = None

  def __init__(self, num_bits=8, **kwargs):
    super().__init__(**kwargs)
    self.num_bits = check_int("UniformDequantization", "num_bits", num_bits)
    self.built = True

  def distribution(self, inner, context=None):
    """`DequantizationDistribution` with uniform noise on `inner` over [0, 1)^D.

    Raises:
      ValueError: if a context is given.
    """
    check_context(context, None, "UniformDequantization")
    return DequantizationDistribution(inner, self.num_bits)

  def get_config(self):
    return {**super().get_config(), "num_bits": self.num_bits}
