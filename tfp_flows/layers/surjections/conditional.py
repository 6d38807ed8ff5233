"""A conditional diagonal location-scale distribution p(y | inputs, context) from an MLP, as a Keras 3 layer."""
import math

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.checks import check_choice, check_int, check_ints
from tfp_flows.layers.step import check_context
from tfp_flows.layers.mlp import MLP

tfd = tfp.distributions

SOFTPLUS_INV_ONE = math.log(math.e - 1.0)
FAMILIES = {"normal": tfd.Normal, "logistic": tfd.Logistic}


def with_context(inputs, context):
  """`inputs [..., I]` concatenated with `context [..., C]` broadcast to the same leading shape."""
  if context is None:
    return inputs
  context = tf.cast(context, inputs.dtype)
  lead = tf.broadcast_dynamic_shape(tf.shape(inputs)[:-1], tf.shape(context)[:-1])
  return tf.concat([tf.broadcast_to(inputs, tf.concat([lead, tf.shape(inputs)[-1:]], 0)),
                    tf.broadcast_to(context, tf.concat([lead, tf.shape(context)[-1:]], 0))],
                   axis=-1)


@keras.saving.register_keras_serializable(package="tfp_flows")
class ConditionalLocScale(keras.layers.Layer):
  """Diagonal Gaussian (or logistic) whose location and scale are an MLP of the inputs (and a context).

  The conditional decoders and encoders of `Slice`, `Augment`,
  `VariationalDequantization` and `VAE` (the reference code's
  `ConditionalNormal`, Nielsen et al. 2020). `call` returns the raw
  parameters; `distribution` returns `tfd.Independent(tfd.Normal(loc,
  softplus(raw + log(e - 1)) + min_scale), 1)` (`tfd.Logistic` for
  `family="logistic"`): a raw output of 0 gives a scale of 1 + min_scale.

  Shapes: inputs `[..., I]`, optional context `[..., C]` (broadcast against the
  inputs' leading axes); the distribution has event `[event_size]`.

  Args:
    event_size: E, the size of y.
    input_size: I.
    context_size: C, or None for no context; the network is built at
      construction from `I + C`, so its variables exist before the first call.
    hidden: MLP hidden widths.
    activation: MLP activation.
    min_scale: lower bound of the scale.
    family: `"normal"` or `"logistic"`.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: for non-integer sizes or widths, or a non-number `min_scale`.
    ValueError: for an unknown `family`, a size or width < 1, or a negative
      `min_scale`; in `call`, for a context that does not fit `context_size`.
  """

  def __init__(self, event_size, input_size, context_size=None, hidden=(64,),
               activation="relu", min_scale=1e-3, family="normal", **kwargs):
    super().__init__(**kwargs)
    owner = "ConditionalLocScale"
    check_choice(owner, "family", family, tuple(sorted(FAMILIES)))
    if isinstance(min_scale, bool) or not isinstance(min_scale, (int, float)):
      raise TypeError(f"{owner}: min_scale must be a number >= 0, got {min_scale!r}.")
    if min_scale < 0:
      raise ValueError(f"{owner}: min_scale must be a number >= 0, got {min_scale}.")
    self.family = family
    self.event_size = check_int(owner, "event_size", event_size)
    self.hidden = check_ints(owner, "hidden", hidden)
    self.input_size = check_int(owner, "input_size", input_size)
    self.context_size = check_int(owner, "context_size", context_size, optional=True)
    self.activation, self.min_scale = activation, float(min_scale)
    self.net = MLP(self.hidden, 2 * self.event_size, activation=activation,
                   dtype=self.dtype_policy)
    width = self.input_size + (0 if self.context_size is None else self.context_size)
    self.net(tf.zeros((1, width), self.compute_dtype))
    self.built = True

  def call(self, inputs, context=None):
    """Raw parameters `[..., 2E]` (means, then pre-softplus scales)."""
    context = check_context(context, self.context_size, self.name)
    return self.net(with_context(inputs, context))

  def distribution(self, inputs, context=None):
    """`tfd.Independent(tfd.Normal or tfd.Logistic)` with event `[E]` for the given inputs and context."""
    params = self(inputs, context=context)
    mean, raw = params[..., :self.event_size], params[..., self.event_size:]
    scale = tf.math.softplus(raw + SOFTPLUS_INV_ONE) + self.min_scale
    return tfd.Independent(FAMILIES[self.family](mean, scale), reinterpreted_batch_ndims=1)

  def get_config(self):
    return {**super().get_config(), "event_size": self.event_size,
            "input_size": self.input_size, "context_size": self.context_size,
            "hidden": self.hidden,
            "activation": self.activation, "min_scale": self.min_scale,
            "family": self.family}
