"""A learnable orthogonal step: a product of Householder reflections (Tomczak & Welling 2016)."""
import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.checks import check_int
from tfp_flows.layers.step import FlowStep

tfb = tfp.bijectors


@keras.saving.register_keras_serializable(package="tfp_flows")
class Householder(FlowStep):
  """`x = H_1 H_2 ... H_K z` with `H_k = I - 2 v_k v_k^T / |v_k|^2`; log|det| = 0.

  A learnable volume-preserving rotation/reflection (Householder flow,
  Tomczak & Welling 2016, eq. 6-7): `tfb.ScaleMatvecLinearOperator` over a
  `tf.linalg.LinearOperatorComposition` of `LinearOperatorHouseholder`s, so
  the inverse applies the same reflections in the opposite order, exactly.
  K = D reflections can represent any orthogonal matrix. The vectors `v_k`
  are drawn from a standard normal at construction (a random orthogonal
  start, not the identity).

  Shapes: `[..., D]`; vectors `[K, D]`.

  Args:
    event_size: D.
    num_reflections: K (default D).
    seed: integer seed of the initial vectors.
    validate_args: if True, check that no vector is zero.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: if `event_size` or `num_reflections` is not an integer.
    ValueError: if `event_size < 1` or `num_reflections < 1`; when applied,
      for inputs of another width or any context.
  """

  def __init__(self, event_size, num_reflections=None, seed=0, validate_args=False,
               **kwargs):
    super().__init__(event_size, None, **kwargs)
    num_reflections = check_int(type(self).__name__, "num_reflections", num_reflections,
                                optional=True)
    self.num_reflections = self.event_size if num_reflections is None else num_reflections
    self.seed, self.validate_args = seed, bool(validate_args)
    self.vectors = self.add_weight(
        name="vectors", shape=(self.num_reflections, self.event_size),
        initializer=keras.initializers.RandomNormal(seed=seed))

  def make_bijector(self, context, training):
    """The step as a `tfb.ScaleMatvecLinearOperator` of the reflections."""
    vectors = tf.convert_to_tensor(self.vectors)
    if self.validate_args:
      with tf.control_dependencies([tf.debugging.assert_positive(
          tf.reduce_sum(vectors**2, -1), f"{self.name}: a reflection vector is zero.")]):
        vectors = tf.identity(vectors)
    ops = [tf.linalg.LinearOperatorHouseholder(v, is_square=True, is_non_singular=True)
           for v in tf.unstack(vectors)]
    scale = ops[0] if len(ops) == 1 else tf.linalg.LinearOperatorComposition(
        ops, is_square=True, is_non_singular=True)
    return tfb.ScaleMatvecLinearOperator(scale, validate_args=self.validate_args)

  def get_config(self):
    return {**super().get_config(), "num_reflections": self.num_reflections, "seed": self.seed,
            "validate_args": self.validate_args}
