"""The one flow-step protocol: `FlowStep`, a Keras 3 layer that returns a TFP bijector for a context.

Every flow step of `tfp_flows.layers` subclasses `FlowStep` and implements one
hook, `make_bijector(context, training)`. The public `bijector(context=None,
training=None)` checks the context (`check_context`) once for every step and
returns a `StepBijector`, which calls the hook when it is used, so its
parameters are read from the layer's variables at use (a distribution built
once trains) and lists those variables (`trainable_variables`) for TFP.
`call` maps data to latent (the density direction) and is written once,
here. `layers.flow.chain` relies on this protocol and nothing else: every
step has `event_size`, `context_size` and `bijector`.
"""
import weakref

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.checks import check_int

tfb = tfp.bijectors


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

  # The rank of the step's events: 1 for vectors `[D]`; 2 for steps on point sets `[N, D]`;
  # 3 for image steps `[H, W, C]` (which pass C as `event_size`).
  event_ndims = 1

  def __init__(self, event_size, context_size=None, **kwargs):
    super().__init__(**kwargs)
    owner = type(self).__name__
    self.event_size = check_int(owner, "event_size", event_size)
    self.context_size = check_int(owner, "context_size", context_size, optional=True)

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
    """The step as a `StepBijector` (forward: latent -> data) for the given context.

    Built once, it stays trainable: the hook runs at each use, reading the
    layer's current variables, and `trainable_variables` lists them.

    Args:
      context: `[..., C]` tensor for a conditional step, else `None`.
      training: `True` in training (dropout, ActNorm initialisation, batch
        statistics), `False` or `None` (Keras' call context) otherwise.

    Raises:
      ValueError: for a missing, unexpected or wrongly sized context.
    """
    context = check_context(context, self.context_size, self.name)
    return StepBijector(self, context, training)

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


class StepBijector(tfb.Bijector):
  """The bijector of a `FlowStep`, rebuilt from the layer's variables at each use.

  Every `forward`, `inverse` or log-det call on a new input tensor calls the
  step's hook `make_bijector(context, training)` and delegates to the
  bijector it returns. Calls on that input or on the output computed from it
  (`inverse(x)`, then `inverse_log_det_jacobian(x)` or the forward log-det
  at `z = inverse(x)`, as `log_prob` through a `tfb.Chain` does) share the
  build and so its caches: one network pass serves them all, as before. Parameters and their
  reparameterisations (planar's `u_hat`, radial's `alpha`, LU factors,
  Householder normalisation, positive scales) are therefore computed at use,
  the way TFP's bijectors convert `tf.Variable` parameters inside
  `_forward`/`_inverse`: a `tfd.TransformedDistribution` built once trains
  under `tf.GradientTape`, `tfp.vi.fit_surrogate_posterior` or
  `tfp.math.minimize`. `variables` / `trainable_variables` list the step's
  weights (as `tf.Variable`s), so a chain or distribution lists the union,
  each once.

  Shapes: inputs `[..., D]` (`[..., K, D]` for stacked steps); log-dets `[...]`
  for `event_ndims=1` (a constant log-det may broadcast, as TFP's do).

  Args:
    step: the `FlowStep`.
    context: the checked context, `None` or `[..., C]`.
    training: `None`, `True` or `False`, passed to the hook.

  Raises (at use):
    ValueError: if the input's last dimension is not the step's D, or if the
      step's variables were replaced (e.g. by weights of another shape) after
      this bijector was built.
  """

  def __init__(self, step, context, training):
    parameters = dict(locals())
    self._step, self._context, self._training = step, context, training
    self._weights = tuple(step.weights)
    self._variables = tuple(w.value for w in self._weights)  # what tf.Module tracking finds
    self._memo = ((), None)
    super().__init__(forward_min_event_ndims=step.event_ndims, is_constant_jacobian=False,
                     parameters=parameters, name=step.name)

  @classmethod
  def _parameter_properties(cls, dtype, num_classes=None):
    return {}

  @property
  def step(self):
    """The `FlowStep` this bijector belongs to."""
    return self._step

  def _check_weights(self):
    """Raises `ValueError` naming the layer if its weights are no longer those captured."""
    now = tuple(self._step.weights)
    if len(now) == len(self._weights) and all(a is b for a, b in zip(now, self._weights)):
      return
    was = [f"{w.path} {tuple(w.shape)}" for w in self._weights]
    new = [f"{w.path} {tuple(w.shape)}" for w in now]
    raise ValueError(f"the variables of layer {self._step.name} were replaced after its "
                     f"bijector was built (built with {was}, now {new}); call "
                     f"{self._step.name}.bijector() again.")

  def _inner(self, x):
    """The hook's bijector for input `x`: one build per input and the output computed from it."""
    if x.shape[-1] is not None and x.shape[-1] != self._step.event_size:
      raise ValueError(f"{self._step.name} expects inputs of shape "
                       f"[..., {self._step.event_size}], got shape {tuple(x.shape)}.")
    if not any(ref() is x for ref in self._memo[0]):
      self._check_weights()
      self._memo = ((weakref.ref(x),), self._step.make_bijector(self._context, self._training))
    return self._memo[1]

  def _remember(self, y):
    """Marks `y`, just computed by the current build, as belonging to it (held weakly, as
    TFP's cache holds outputs, so the cache can drop both once `y` is gone)."""
    self._memo = (self._memo[0] + (weakref.ref(y),), self._memo[1])
    return y

  def _get_parameterization(self):
    # Every instance is distinct: two bijectors of one step must not share TFP's cache, since
    # the variables may change between their uses.
    return id(self)

  def _forward(self, z):
    return self._remember(self._inner(z).forward(z))

  def _inverse(self, x):
    return self._remember(self._inner(x).inverse(x))

  def _forward_log_det_jacobian(self, z):
    return self._inner(z).forward_log_det_jacobian(z, event_ndims=self._step.event_ndims)

  def _inverse_log_det_jacobian(self, x):
    return self._inner(x).inverse_log_det_jacobian(x, event_ndims=self._step.event_ndims)

  def _batch_shape(self, x_event_ndims):
    self._check_weights()
    inner = self._step.make_bijector(self._context, self._training)
    return inner.experimental_batch_shape(x_event_ndims=x_event_ndims)

  def _batch_shape_tensor(self, x_event_ndims):
    self._check_weights()
    inner = self._step.make_bijector(self._context, self._training)
    return inner.experimental_batch_shape_tensor(x_event_ndims=x_event_ndims)
