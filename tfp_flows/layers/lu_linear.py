"""A trainable LU-decomposed linear step (Kingma & Dhariwal 2018) as a Keras 3 layer."""
import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.checks import check_int
from tfp_flows.layers.step import FlowStep

tfb = tfp.bijectors


@keras.saving.register_keras_serializable(package="tfp_flows")
class LULinear(FlowStep):
  """`y = P L U z`, `tfb.ScaleMatvecLU`, initialised at the identity.

  L is unit lower triangular, U upper triangular, both packed in one
  trainable `[D, D]` matrix; P is the identity here (a random permutation is
  a separate `Permutation` step). log|det| = sum log|diag U| (Glow, Kingma &
  Dhariwal 2018, Sec. 3.2; used by the iFlow and NSF reference code).

  Shapes: `[..., D]`; with `num_models=K`, `[..., K, D]` and weights `[K, D, D]`.

  Args:
    event_size: D.
    num_models: optional K.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: if `event_size` or `num_models` is not an integer.
    ValueError: if `event_size < 1` or `num_models < 1`; when applied, for
      inputs of another width or any context.
  """

  def __init__(self, event_size, num_models=None, **kwargs):
    super().__init__(event_size, None, **kwargs)
    self.num_models = check_int(type(self).__name__, "num_models", num_models, optional=True)
    stack = () if num_models is None else (self.num_models,)
    eye = np.broadcast_to(np.eye(self.event_size), stack + (self.event_size,) * 2)
    self.lower_upper = self.add_weight(
        name="lower_upper", shape=eye.shape, initializer=keras.initializers.Constant(eye))
    self.lu_permutation = self.add_weight(
        name="lu_permutation", shape=eye.shape[:-1], dtype="int32", trainable=False,
        initializer=keras.initializers.Constant(
            np.broadcast_to(np.arange(self.event_size), eye.shape[:-1])))

  def make_bijector(self, context, training):
    """The step as a `tfb.ScaleMatvecLU`."""
    return tfb.ScaleMatvecLU(tf.convert_to_tensor(self.lower_upper),
                             tf.convert_to_tensor(self.lu_permutation))

  def get_config(self):
    return {**super().get_config(), "num_models": self.num_models}
