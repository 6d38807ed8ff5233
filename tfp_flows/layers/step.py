"""The one flow-step protocol: `FlowStep`, a Keras 3 layer that returns a TFP bijector for a context.

Every flow step of `tfp_flows.layers` subclasses `FlowStep` and implements one
hook, `make_bijector(context, training)`. The public `bijector(context=None,
training=None)` checks the context (`check_context`) once for every step and
calls the hook; `call` maps data to latent (the density direction) and is
written once, here. `layers.flow.chain` relies on this protocol and nothing
else: every step has `event_size`, `context_size` and `bijector`.
"""
import math
import numbers

import keras
import tensorflow as tf


def check_size(name, value, minimum=1, optional=False):
  """`int(value)` after checking it is an integer `>= minimum` (or `None` when `optional`).

  Args:
    name: the argument's name, for the message.
    value: the value given.
    minimum: the smallest allowed value.
    optional: whether `None` is allowed (and returned as is).

  Returns:
    The value as a Python `int` (or `None`).

  Raises:
    TypeError: if `value` is not an integer (bools and non-integral floats
      included).
    ValueError: if `value < minimum`.
  """
  if value is None and optional:
    return None
  integral = isinstance(value, numbers.Integral) or (
      isinstance(value, float) and value.is_integer())
  if isinstance(value, bool) or not integral:
    raise TypeError(f"{name} must be an integer{' or None' if optional else ''}, "
                    f"got {value!r}.")
  if int(value) < minimum:
    raise ValueError(f"{name} must be >= {minimum}, got {value!r}.")
  return int(value)


def check_positive(name, value):
  """`float(value)` after checking it is a finite real number `> 0`.

  Raises:
    TypeError: if `value` is not a real number (bools included).
    ValueError: if `value` is not finite or not positive.
  """
  if isinstance(value, bool) or not isinstance(value, numbers.Real):
    raise TypeError(f"{name} must be a real number, got {value!r}.")
  if not (math.isfinite(value) and value > 0):
    raise ValueError(f"{name} must be a positive finite number, got {value!r}.")
  return float(value)


def check_context(context, context_size, owner):
  """Checks a context tensor against the width a step was built for.

  Args:
    context: `None` or a tensor `[..., C]`.
    context_size: the width C the step was built for, or `None` for an
      unconditional step.
    owner: name of the step, for the message.

  Returns:
    The context as a tensor (or `None`).

  Raises:
    ValueError: if a context is given to an unconditional step, missing for a
      conditional one, or its last dimension is not `context_size`.
  """
  if context_size is None:
    if context is not None:
      raise ValueError(f"{owner} was built without a context (context_size=None) "
                       f"but got one of shape {tuple(context.shape)}.")
    return None
  if context is None:
    raise ValueError(f"{owner} needs a context of shape [..., {context_size}].")
  context = tf.convert_to_tensor(context)
  if context.shape[-1] != context_size:
    raise ValueError(f"{owner} expects a context of shape [..., {context_size}], "
                     f"got shape {tuple(context.shape)}.")
  return context


class FlowStep(keras.layers.Layer):
  """Base class of every flow step: owns variables, returns a `tfb.Bijector` for a context.

  Direction (TFP convention): the bijector's `forward` maps latent z to data
  x; `call(x)` returns its `inverse(x)`, the density direction.

  Subclasses implement one hook, `make_bijector(context, training)`, which
  receives an already checked context (`None` for an unconditional step, a
  `[..., C]` tensor otherwise) and the `training` flag (`None`, `True` or
  `False`; steps without dropout or batch statistics ignore it). They pass
  their own arguments to `get_config` by extending it. A step that takes no
  context calls `super().__init__(event_size, None, **kwargs)`.

  Shapes: `x` `[..., D]` (or `[..., K, D]` for stacked steps); context
  `[..., C]`.

  Args:
    event_size: D >= 1.
    context_size: C >= 1 for a conditional step, `None` (default) for one
      that takes no context.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: if `event_size` or `context_size` is not an integer.
    ValueError: if `event_size < 1` or `context_size < 1`; in `bijector`
      and `call`, for a context that is missing, unexpected or of the wrong
      width (see `check_context`); in `call`, for `x` whose last dimension is
      not D.
  """

  def __init__(self, event_size, context_size=None, **kwargs):
    super().__init__(**kwargs)
    self.event_size = check_size("event_size", event_size)
    self.context_size = check_size("context_size", context_size, optional=True)

  def make_bijector(self, context, training):
    """The hook: the step's bijector (forward: latent -> data) for a checked context.

    Args:
      context: `None` or a `[..., C]` tensor, already checked.
      training: `None`, `True` or `False`.

    Returns:
      A `tfb.Bijector` with `forward_min_event_ndims` at most 1.
    """
    raise NotImplementedError(f"{type(self).__name__} must implement make_bijector.")

  def bijector(self, context=None, training=None):
    """The step as a `tfb.Bijector` (forward: latent -> data) for the given context.

    Args:
      context: `[..., C]` tensor for a conditional step, else `None`.
      training: `True` in training (dropout, ActNorm initialisation, batch
        statistics), `False` or `None` (Keras' call context) otherwise.

    Raises:
      ValueError: for a missing, unexpected or wrongly sized context.
    """
    context = check_context(context, self.context_size, self.name)
    return self.make_bijector(context, training)

  def call(self, x, context=None, training=None):
    """Maps data to latent (the density direction, `bijector(context).inverse(x)`).

    Raises:
      ValueError: if the last dimension of `x` is not D (or see `bijector`).
    """
    if x.shape[-1] is not None and x.shape[-1] != self.event_size:
      raise ValueError(f"{self.name} expects inputs of shape [..., {self.event_size}], "
                       f"got shape {tuple(x.shape)}.")
    return self.bijector(context, training).inverse(x)

  def get_config(self):
    config = {**super().get_config(), "event_size": self.event_size}
    if self.context_size is not None:  # steps that take no context have no such argument
      config["context_size"] = self.context_size
    return config
