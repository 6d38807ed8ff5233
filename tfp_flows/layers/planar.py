"""Trainable planar flow step (Rezende & Mohamed 2015) as a Keras 3 layer."""
import keras
import tensorflow as tf

from tfp_flows.bijectors.planar import Planar as PlanarBijector
from tfp_flows.layers.dense import Dense
from tfp_flows.layers.flow import check_context


@keras.saving.register_keras_serializable(package="tfp_flows")
class Planar(keras.layers.Layer):
  """Planar step `f(z) = z + u_hat tanh(w^T z + b)`, returning `tfp_flows.bijectors.Planar`.

  The layer owns the unconstrained `u [D]`, `w [D]` and `b []`; the
  bijector applies the invertibility reparameterisation of `u` (Rezende &
  Mohamed 2015, Appendix A.1). The paper gives no initialisation; here `u`
  and `w` are drawn from N(0, init_scale^2) and `b` starts at 0, so the step
  starts close to the identity. With `context_size=C` the parameters are the
  variables plus `Dense(2D + 1)(context)`, so every context gets its own
  planar map (batch dims of the bijector's parameters = those of the context).

  Every variable exists after construction, so `bijector()` can be used
  (e.g. for sampling only) before the layer is ever called.

  Shapes: inputs `[..., D]`; context `[..., C]`.

  Args:
    event_size: D.
    context_size: optional width C of the context.
    init_scale: standard deviation of the initial `u` and `w`.
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
    normal = keras.initializers.RandomNormal(stddev=self.init_scale)
    self.u = self.add_weight(name="u", shape=(self.event_size,), initializer=normal)
    self.w = self.add_weight(name="w", shape=(self.event_size,), initializer=normal)
    self.b = self.add_weight(name="b", shape=(), initializer="zeros")
    self.context_proj = None
    if self.context_size is not None:
      self.context_proj = Dense(2 * self.event_size + 1, dtype=self.dtype_policy)
      self.context_proj.build((None, self.context_size))

  def bijector(self, context=None):
    """The step as a `tfp_flows.bijectors.Planar` (forward: latent -> data) for the context."""
    u, w, b = (tf.convert_to_tensor(v) for v in (self.u, self.w, self.b))
    context = check_context(context, self.context_size, self.name)
    if context is not None:
      p, d = self.context_proj(context), self.event_size
      u, w, b = u + p[..., :d], w + p[..., d:2 * d], b + p[..., 2 * d]
    return PlanarBijector(u, w, b)

  def call(self, x, context=None):
    """Maps data to latent (the density direction, by the iterative inverse)."""
    return self.bijector(context).inverse(x)

  def get_config(self):
    return {**super().get_config(), "event_size": self.event_size,
            "context_size": self.context_size, "init_scale": self.init_scale}
