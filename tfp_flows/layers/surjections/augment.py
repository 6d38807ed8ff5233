"""Keras layer of the augment surjection (SurVAE Sec. 4.1); the math is `tfp_flows.surjections.AugmentDistribution`."""
import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.checks import check_bool, check_int, check_ints
from tfp_flows.layers.step import check_context
from tfp_flows.layers.surjections.conditional import ConditionalLocScale
from tfp_flows.surjections.augment import AugmentDistribution

tfd = tfp.distributions


@keras.saving.register_keras_serializable(package="tfp_flows")
class Augment(keras.layers.Layer):
  """Keras layer owning the encoder q(e | x, context) of an `AugmentDistribution`.

  Args:
    event_size: D, the size of x.
    augment_size: A, the number of appended entries.
    learned: False: q(e | x) = N(0, I), no variables (the paper's toy
      experiments); True: a `ConditionalLocScale` MLP of x (and the context).
    context_size: C of the context a learned encoder sees, or None.
    hidden: hidden widths of the learned encoder.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: for non-integer sizes or widths, or a non-bool `learned`.
    ValueError: if `event_size`, `augment_size`, `context_size` or a hidden
      width is < 1, or `context_size` is given with `learned=False` (a fixed
      N(0, I) cannot see a context).
  """

  def __init__(self, event_size, augment_size, learned=False, context_size=None,
               hidden=(64,), **kwargs):
    super().__init__(**kwargs)
    self.event_size = check_int("Augment", "event_size", event_size)
    self.augment_size = check_int("Augment", "augment_size", augment_size)
    self.learned = check_bool("Augment", "learned", learned)
    self.context_size = check_int("Augment", "context_size", context_size, optional=True)
    self.hidden = check_ints("Augment", "hidden", hidden)
    if self.context_size is not None and not self.learned:
      raise ValueError(f"Augment: context_size={context_size} needs learned=True (the fixed "
                       f"encoder N(0, I) takes no context).")
    self.encoder = (ConditionalLocScale(self.augment_size, self.event_size, self.context_size,
                                        self.hidden, dtype=self.dtype_policy)
                    if self.learned else None)
    self.built = True

  def _standard_normal(self, x):
    zeros = tf.zeros(tf.concat([tf.shape(x)[:-1], [self.augment_size]], 0), x.dtype)
    return tfd.Independent(tfd.Normal(zeros, 1), reinterpreted_batch_ndims=1)

  def distribution(self, inner, context=None):
    """`AugmentDistribution` on `inner` (event `[D + A]`); a learned encoder also sees `context`.

    Raises:
      ValueError: for a context that does not fit `context_size` (see `check_context`).
    """
    context = check_context(context, self.context_size, "Augment")
    if self.encoder is None:
      return AugmentDistribution(inner, self._standard_normal, self.event_size)
    return AugmentDistribution(
        inner, lambda x: self.encoder.distribution(x, context=context), self.event_size)

  def get_config(self):
    return {**super().get_config(), "event_size": self.event_size,
            "augment_size": self.augment_size, "learned": self.learned,
            "context_size": self.context_size, "hidden": self.hidden}
