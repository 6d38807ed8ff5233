"""A flow as a Keras 3 layer: a list of steps, their chained bijector and a standard-normal base."""
import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.checks import check_int
from tfp_flows.layers.step import FlowStep, check_context

tfb, tfd = tfp.bijectors, tfp.distributions


def check_steps(steps):
  """Raises `TypeError` naming the first of `steps` that is not a `FlowStep` or `Flow`."""
  for i, step in enumerate(steps):
    if not isinstance(step, (FlowStep, Flow)):
      raise TypeError(f"steps[{i}] must be a FlowStep or Flow layer, got "
                      f"{type(step).__name__}: {step!r}.")


def chain(steps, context=None, training=None):
  """One `tfb.Chain` of flow steps, all conditioned on the same context.

  `steps[0]` is applied first in the density direction (data -> latent,
  `inverse`) and last when sampling (`forward`): `tfb.Chain([b0, b1])`
  computes `forward = b0.forward(b1.forward(z))`, so its `inverse` starts
  with `b0.inverse`; the list is therefore not reversed.

  Args:
    steps: sequence of `FlowStep`s (or `Flow`s).
    context: optional `[..., C]` tensor, passed to every step with a
      `context_size`; steps with `context_size=None` get `None`.
    training: passed to every step (dropout, ActNorm, BatchNorm).

  Returns:
    A `tfb.Chain` (forward: latent -> data).

  Raises:
    TypeError: if a step is not a `FlowStep` or `Flow`.
    ValueError: if a conditional step gets no context, or one of the wrong
      width (see `check_context`).
  """
  check_steps(steps)
  return tfb.Chain([s.bijector(None if s.context_size is None else context, training)
                    for s in steps])


@keras.saving.register_keras_serializable(package="tfp_flows")
class Flow(keras.layers.Layer):
  """A normalizing flow `p(x | c)`: standard-normal base pushed through a chain of steps.

  Steps with a `context_size` receive the context; steps with
  `context_size=None` get none, so a conditional flow mixes conditional
  couplings or MAFs with permutations and normalisations. `steps[0]` is applied
  first to the data.

  Shapes: `x` `[..., D]`, context `[..., C]`; `call` returns
  `log p(x | c)` in nats, shape `[...]`.

  Args:
    steps: list of flow-step layers (e.g. `AffineCoupling`, `Permutation`).
    event_size: D.
    context_size: C; by default the `context_size` of the conditional steps.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: if a step is not a `FlowStep` or `Flow`, or `event_size` or
      `context_size` is not an integer.
    ValueError: if `steps` is empty, `event_size < 1`, `context_size < 1`, or steps expect
      different context widths; in `call`, for inputs or contexts of the
      wrong width.
  """

  def __init__(self, steps, event_size, context_size=None, **kwargs):
    super().__init__(**kwargs)
    if not steps:
      raise ValueError(f"a Flow needs at least one step, got steps={steps!r}.")
    check_steps(steps)
    self.steps = list(steps)
    self.event_size = check_int(type(self).__name__, "event_size", event_size)
    context_size = check_int(type(self).__name__, "context_size", context_size, optional=True)
    sizes = {s.context_size for s in self.steps if s.context_size is not None}
    sizes |= set() if context_size is None else {context_size}
    if len(sizes) > 1:
      raise ValueError(f"the steps expect different context widths {sorted(sizes)}.")
    self.context_size = sizes.pop() if sizes else None
    self.built = True  # the steps own all the state

  def bijector(self, context=None, training=None):
    """All steps as one `tfb.Chain` (forward: latent -> data)."""
    context = check_context(context, self.context_size, self.name)
    return chain(self.steps, context, training)

  def distribution(self, context=None, training=None):
    """`tfd.TransformedDistribution` of `N(0, I_D)` through `bijector(context)`."""
    base = tfd.Sample(tfd.Normal(tf.constant(0.0, self.compute_dtype), 1.0),
                      self.event_size)
    return tfd.TransformedDistribution(base, self.bijector(context, training))

  def call(self, x, context=None, training=None):
    """`log p(x | context)`, shape `[...]`.

    Raises:
      ValueError: if the last dimension of `x` is not D (or see `check_context`).
    """
    if x.shape[-1] is not None and x.shape[-1] != self.event_size:
      raise ValueError(f"{self.name} expects inputs of shape [..., {self.event_size}], "
                       f"got shape {tuple(x.shape)}.")
    return self.distribution(context, training).log_prob(x)

  def get_config(self):
    return {**super().get_config(), "event_size": self.event_size,
            "context_size": self.context_size,
            "steps": [keras.saving.serialize_keras_object(s) for s in self.steps]}

  @classmethod
  def from_config(cls, config):
    config = dict(config)
    config["steps"] = [keras.saving.deserialize_keras_object(s) for s in config["steps"]]
    return cls(**config)
