"""Trainable radial flow step (Rezende & Mohamed 2015) as a Keras 3 layer."""
import keras
import tensorflow as tf

from tfp_flows.bijectors.radial import Radial as RadialBijector
from tfp_flows.layers.amortized import AmortizedStep


@keras.saving.register_keras_serializable(package="tfp_flows")
class Radial(AmortizedStep):
  """Radial step `f(z) = z + beta_hat (z - z0) / (alpha + ||z - z0||)` (`bijectors.Radial`).

  The layer owns `z0 [D]` and the unconstrained `alpha_raw []`, `beta []`,
  with `alpha = softplus(alpha_raw)` (positive, as the bijector requires) and
  `beta_hat = -alpha + softplus(beta)` inside the bijector (Rezende & Mohamed
  2015, eq. 14, Appendix A.2). The paper gives no initialisation; here `z0`
  is drawn from N(0, 1) (centres spread over the base's mass), `alpha_raw`
  and `beta` from N(0, init_scale^2). With `context_size=C` the parameters
  are the variables plus `Dense(D + 2)(context)`.

  Shapes, arguments and errors: see `AmortizedStep`; `init_scale` is the
  standard deviation of the initial `alpha_raw` and `beta`.
  """

  def parameter_shapes(self):
    return {"z0": (self.event_size,), "alpha_raw": (), "beta": ()}

  def initializer(self, name):
    return keras.initializers.RandomNormal(stddev=1.0 if name == "z0" else self.init_scale)

  def make_bijector(self, context, training):
    p = self.parameters(context)
    return RadialBijector(p["z0"], tf.math.softplus(p["alpha_raw"]), p["beta"])
