"""Keras layer of the absolute-value surjection (SurVAE Sec. 4.1); the math is `tfp_flows.surjections.AbsDistribution`."""
import keras
import numpy as np
import tensorflow as tf

from tfp_flows.checks import check_bool, check_int
from tfp_flows.layers.dense import Dense
from tfp_flows.layers.step import check_context
from tfp_flows.surjections.abs import AbsDistribution


@keras.saving.register_keras_serializable(package="tfp_flows")
class Abs(keras.layers.Layer):
  """Keras layer owning the sign logits of an `AbsDistribution`.

  Args:
    event_size: D, the size of the last axis of x (the event may have more axes;
      q is per position of the last axis).
    q: initial (or fixed) probability of a positive sign, in (0, 1).
    learn_q: whether q is trained (a logit variable) or fixed.
    context_size: optional width C of a context; then logit(q) gets an added
      `Dense(D)(context)`, so q depends on the context.
    validate_args: passed to the distribution.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: for a non-integer `event_size` or `context_size`, a non-number
      `q`, or non-bool flags.
    ValueError: if q is not in (0, 1), `event_size < 1` or `context_size < 1`.

  Example:
    >>> base = tfd.TransformedDistribution(tfd.Sample(tfd.Normal(0., 1.), 2), tfb.Softplus())
    >>> Abs(2).distribution(base).log_prob([[-1., 2.]]).shape
    TensorShape([1])
  """

  def __init__(self, event_size, q=0.5, learn_q=True, context_size=None,
               validate_args=False, **kwargs):
    super().__init__(**kwargs)
    self.event_size = check_int("Abs", "event_size", event_size)
    if isinstance(q, bool) or not isinstance(q, (int, float, np.number)):
      raise TypeError(f"Abs: q must be a number in (0, 1), got {q!r}.")
    if not 0.0 < float(q) < 1.0:
      raise ValueError(f"Abs: q must lie in (0, 1), got {q}.")
    self.q, self.learn_q = float(q), check_bool("Abs", "learn_q", learn_q)
    self.context_size = check_int("Abs", "context_size", context_size, optional=True)
    self.validate_args = check_bool("Abs", "validate_args", validate_args)
    self.logits = self.add_weight(
        name="logits", shape=(self.event_size,), trainable=self.learn_q,
        initializer=keras.initializers.Constant(float(np.log(self.q / (1 - self.q)))))
    self.context_net = (None if self.context_size is None else
                        Dense(self.event_size, dtype=self.dtype_policy))
    if self.context_net is not None:
      self.context_net.build((self.context_size,))
    self.built = True

  def distribution(self, inner, context=None):
    """`AbsDistribution` over x on top of `inner` (a distribution over |x|).

    Args:
      inner: `tfd.Distribution` over z >= 0 with event `[..., D]`.
      context: `[batch..., C]` when built with `context_size`, else None.

    Raises:
      ValueError: if a context is given to a layer built without one, is
        missing for one built with one, or has the wrong width.
    """
    context = check_context(context, self.context_size, "Abs")
    logits = tf.convert_to_tensor(self.logits)
    if context is not None:
      logits = logits + self.context_net(context)
    return AbsDistribution(inner, logits, validate_args=self.validate_args)

  def call(self, x):
    """Data -> latent: returns |x|."""
    return tf.abs(x)

  def get_config(self):
    return {**super().get_config(), "event_size": self.event_size, "q": self.q,
            "learn_q": self.learn_q, "context_size": self.context_size,
            "validate_args": self.validate_args}
