"""Base of flow steps with a few parameter vectors that an optional context shifts (amortisation)."""
import tensorflow as tf

from tfp_flows.checks import check_positive
from tfp_flows.layers.dense import Dense
from tfp_flows.layers.step import FlowStep


class AmortizedStep(FlowStep):
  """A step whose parameters are its variables plus, with a context, a linear map of it.

  Subclasses list their parameters in `parameter_shapes()` (name -> `()` or
  `(D,)`, with `initializer(name)`) and implement the `FlowStep` hook
  `make_bijector(context, training)` from `self.parameters(context)`. With `context_size=C`, `Dense(P)(context)` (P
  the total parameter size) is split in the listed order and added to the
  variables, so every context gets its own map and the bijector's batch shape
  is the context's: the amortised flows of Rezende & Mohamed 2015, Sec. 4.2.
  Every variable exists after construction, so `bijector()` works before
  the layer is ever called.

  Shapes: inputs `[..., D]`; context `[..., C]`.

  Args:
    event_size: D.
    context_size: optional width C of the context.
    init_scale: standard deviation of the subclass's small initial values.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: if `event_size` or `context_size` is not an integer.
    ValueError: if `event_size < 1` or `init_scale` is not a positive finite
      number; at use, if a context is given to a layer built without one, is
      missing, or has a width other than `context_size`.
  """

  def __init__(self, event_size, context_size=None, init_scale=0.1, **kwargs):
    super().__init__(event_size, context_size, **kwargs)
    self.init_scale = check_positive(type(self).__name__, "init_scale", init_scale)
    shapes = self.parameter_shapes()
    for name, shape in shapes.items():
      setattr(self, name, self.add_weight(name=name, shape=shape,
                                          initializer=self.initializer(name)))
    self.context_proj = None
    if self.context_size is not None:
      size = sum(shape[0] if shape else 1 for shape in shapes.values())
      self.context_proj = Dense(size, dtype=self.dtype_policy)
      self.context_proj.build((None, self.context_size))

  def parameter_shapes(self):
    """Ordered `{name: shape}` of the parameters, each `()` or `(D,)`."""
    raise NotImplementedError

  def initializer(self, name):
    """Keras initializer of parameter `name`."""
    raise NotImplementedError

  def parameters(self, context):
    """`{name: value}`: each variable, plus its slice of `Dense(context)` when there is a context.

    Args:
      context: the checked context, `None` or `[..., C]`.

    Returns:
      Tensors of shape `[..., D]` or `[...]` (the context's batch dims).
    """
    values = {name: tf.convert_to_tensor(getattr(self, name)) for name in self.parameter_shapes()}
    if context is not None:
      p, start = self.context_proj(context), 0
      for name, shape in self.parameter_shapes().items():
        size = shape[0] if shape else 1
        values[name] += p[..., start:start + size] if shape else p[..., start]
        start += size
    return values

  def get_config(self):
    return {**super().get_config(), "init_scale": self.init_scale}
