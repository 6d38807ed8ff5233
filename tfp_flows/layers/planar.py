"""Trainable planar flow step (Rezende & Mohamed 2015) as a Keras 3 layer."""
import keras

from tfp_flows.bijectors.planar import Planar as PlanarBijector
from tfp_flows.layers.amortized import AmortizedStep


@keras.saving.register_keras_serializable(package="tfp_flows")
class Planar(AmortizedStep):
  """Planar step `f(z) = z + u_hat tanh(w^T z + b)`, returning `tfp_flows.bijectors.Planar`.

  The layer owns the unconstrained `u [D]`, `w [D]` and `b []`; the
  bijector applies the invertibility reparameterisation of `u` (Rezende &
  Mohamed 2015, Appendix A.1). The paper gives no initialisation; here `u`
  and `w` are drawn from N(0, init_scale^2) and `b` starts at 0, so the step
  starts close to the identity. With `context_size=C` the parameters are the
  variables plus `Dense(2D + 1)(context)`, so every context gets its own
  planar map (batch dims of the bijector's parameters = those of the context).

  Shapes, arguments and errors: see `AmortizedStep`; `init_scale` is the
  standard deviation of the initial `u` and `w`.
  """

  def parameter_shapes(self):
    return {"u": (self.event_size,), "w": (self.event_size,), "b": ()}

  def initializer(self, name):
    return "zeros" if name == "b" else keras.initializers.RandomNormal(stddev=self.init_scale)

  def make_bijector(self, context, training):
    return PlanarBijector(**self.parameters(context))
