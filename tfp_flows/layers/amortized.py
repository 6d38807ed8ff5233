"""Base of flow steps with a few parameter vectors that an optional context shifts (amortisation)."""
import keras
import tensorflow as tf

from tfp_flows.layers.dense import Dense
from tfp_flows.layers.flow import check_context


class AmortizedStep(keras.layers.Layer):
  """A step whose parameters are its variables plus, with a context, a linear map of it.

  Subclasses list their parameters in `parameter_shapes()` (name -> `()` or
  `(D,)`, with `initializer(name)`) and build the bijector from their values in
  `make_bijector(**values)`. With `context_size=C`, `Dense(P)(context)` (P
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
    ValueError: if `event_size < 1`; at use, if a context is given to a layer
      built without one, is missing, or has a width other than `context_size`.
  """

  def __init__(self, event_size, context_size=None, init_scale=0.1, **kwargs):
    super().__init__(**kwargs)
    if int(event_size) < 1:
      raise ValueError(f"event_size must be >= 1, got {event_size}.")
    self.event_size, self.init_scale = int(event_size), float(init_scale)
    self.context_size = None if context_size is None else int(context_size)
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

  def make_bijector(self, **values):
    """The bijector for parameter values (tensors, with the context's batch dims)."""
    raise NotImplementedError

  def bijector(self, context=None):
    """The step as a `tfb.Bijector` (forward: latent -> data) for the context."""
    values = {name: tf.convert_to_tensor(getattr(self, name)) for name in self.parameter_shapes()}
    context = check_context(context, self.context_size, self.name)
    if context is not None:
      p, start = self.context_proj(context), 0
      for name, shape in self.parameter_shapes().items():
        size = shape[0] if shape else 1
        values[name] += p[..., start:start + size] if shape else p[..., start]
        start += size
    return self.make_bijector(**values)

  def call(self, x, context=None):
    """Maps data to latent (the density direction, `bijector(context).inverse`)."""
    return self.bijector(context).inverse(x)

  def get_config(self):
    return {**super().get_config(), "event_size": self.event_size,
            "context_size": self.context_size, "init_scale": self.init_scale}
