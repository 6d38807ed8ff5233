"""Trainable radial flow step (Rezende & Mohamed 2015) as a Keras 3 layer."""
import keras
import tensorflow as tf

from tfp_flows.bijectors.radial import Radial as RadialBijector
from tfp_flows.layers.dense import Dense
from tfp_flows.layers.flow import check_context


@keras.saving.register_keras_serializable(package="tfp_flows")
class Radial(keras.layers.Layer):
  """Radial step `f(z) = z + beta_hat (z - z0) / (alpha + ||z - z0||)` (`bijectors.Radial`).

  The layer owns `z0 [D]` and the unconstrained `alpha_raw []`, `beta []`,
  with `alpha = softplus(alpha_raw)` (positive, as the bijector requires) and
  `beta_hat = -alpha + softplus(beta)` inside the bijector (Rezende & Mohamed
  2015, eq. 14, Appendix A.2). The paper gives no initialisation; here `z0`
  is drawn from N(0, 1) (centres spread over the base's mass), `alpha_raw`
  and `beta` from N(0, init_scale^2). With `context_size=C` the parameters
  are the variables plus `Dense(D + 2)(context)`.

  Every variable exists after construction, so `bijector()` can be used
  before the layer is ever called.

  Shapes: inputs `[..., D]`; context `[..., C]`.

  Args:
    event_size: D.
    context_size: optional width C of the context.
    init_scale: standard deviation of the initial `alpha_raw` and `beta`.
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
    small = keras.initializers.RandomNormal(stddev=self.init_scale)
    self.z0 = self.add_weight(name="z0", shape=(self.event_size,),
                              initializer=keras.initializers.RandomNormal(stddev=1.0))
    self.alpha_raw = self.add_weight(name="alpha_raw", shape=(), initializer=small)
    self.beta = self.add_weight(name="beta", shape=(), initializer=small)
    self.context_proj = None
    if self.context_size is not None:
      self.context_proj = Dense(self.event_size + 2, dtype=self.dtype_policy)
      self.context_proj.build((None, self.context_size))

  def bijector(self, context=None):
    """The step as a `tfp_flows.bijectors.Radial` (forward: latent -> data) for the context."""
    z0, alpha_raw, beta = (tf.convert_to_tensor(v) for v in (self.z0, self.alpha_raw, self.beta))
    context = check_context(context, self.context_size, self.name)
    if context is not None:
      p, d = self.context_proj(context), self.event_size
      z0, alpha_raw, beta = z0 + p[..., :d], alpha_raw + p[..., d], beta + p[..., d + 1]
    return RadialBijector(z0, tf.math.softplus(alpha_raw), beta)

  def call(self, x, context=None):
    """Maps data to latent (the density direction, closed-form inverse)."""
    return self.bijector(context).inverse(x)

  def get_config(self):
    return {**super().get_config(), "event_size": self.event_size,
            "context_size": self.context_size, "init_scale": self.init_scale}
