"""A learnable orthogonal step: a product of Householder reflections (Tomczak & Welling 2016)."""
import keras
import tensorflow as tf
import tensorflow_probability as tfp

tfb = tfp.bijectors


@keras.saving.register_keras_serializable(package="tfp_flows")
class Householder(keras.layers.Layer):
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
    ValueError: if `event_size < 1` or `num_reflections < 1`; when applied,
      for inputs of another width (from `tf.linalg`).
  """

  def __init__(self, event_size, num_reflections=None, seed=0, validate_args=False,
               **kwargs):
    super().__init__(**kwargs)
    self.event_size = int(event_size)
    self.num_reflections = self.event_size if num_reflections is None else int(
        num_reflections)
    if self.event_size < 1 or self.num_reflections < 1:
      raise ValueError(f"event_size and num_reflections must be >= 1, got "
                       f"{event_size} and {num_reflections}.")
    self.seed, self.validate_args = seed, bool(validate_args)
    self.vectors = self.add_weight(
        name="vectors", shape=(self.num_reflections, self.event_size),
        initializer=keras.initializers.RandomNormal(seed=seed))

  def bijector(self, context=None):
    """The step as a `tfb.ScaleMatvecLinearOperator`; `context` is accepted and ignored."""
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

  def call(self, x, context=None):
    """Maps data to latent (the density direction)."""
    return self.bijector(context).inverse(x)

  def get_config(self):
    return {**super().get_config(), "event_size": self.event_size,
            "num_reflections": self.num_reflections, "seed": self.seed,
            "validate_args": self.validate_args}
