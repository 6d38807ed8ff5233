"""A fixed permutation of the event axis as a Keras 3 layer (random or reverse)."""
import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.checks import check_int
from tfp_flows.layers.step import FlowStep

tfb = tfp.bijectors


@keras.saving.register_keras_serializable(package="tfp_flows")
class Permutation(FlowStep):
  """A fixed (non-trainable) permutation step: `tfb.Permute` of the last axis.

  Used between autoregressive or coupling steps so every dimension is
  transformed (Durkan et al. 2019; Dinh et al. 2017). The permutation is
  stored as a non-trainable int32 weight, so it survives saving.

  Shapes: `[..., D]`; with `num_models=K`, `[..., K, D]` and K independent
  permutations, applied as a batch of `tf.linalg.LinearOperatorPermutation`
  (TFP's `tfb.Permute` takes one permutation only).

  Args:
    event_size: D.
    kind: `"random"` (drawn from `seed`) or `"reverse"`.
    seed: integer seed of the random permutation (NumPy `default_rng`).
    num_models: optional K.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: if `event_size` or `num_models` is not an integer.
    ValueError: for an unknown `kind`, `event_size < 1` or `num_models < 1`;
      when applied, for inputs of another width or any context.
  """

  def __init__(self, event_size, kind="random", seed=0, num_models=None, **kwargs):
    super().__init__(event_size, None, **kwargs)
    if kind not in ("random", "reverse"):
      raise ValueError(f"kind must be 'random' or 'reverse', got {kind!r}.")
    self.kind, self.seed = kind, seed
    self.num_models = check_int(type(self).__name__, "num_models", num_models, optional=True)
    rng = np.random.default_rng(seed)
    count = 1 if num_models is None else int(num_models)
    perms = np.stack([rng.permutation(self.event_size) if kind == "random"
                      else np.arange(self.event_size)[::-1] for _ in range(count)])
    perms = perms[0] if num_models is None else perms
    self.permutation = self.add_weight(
        name="permutation", shape=perms.shape, dtype="int32", trainable=False,
        initializer=keras.initializers.Constant(perms))

  def make_bijector(self, context, training):
    """The step as a `tfb.Permute` (a batch of permutation matrices with `num_models`)."""
    perm = tf.convert_to_tensor(self.permutation)
    if self.num_models is None:
      return tfb.Permute(perm)
    return tfb.ScaleMatvecLinearOperator(
        tf.linalg.LinearOperatorPermutation(perm, dtype=self.compute_dtype))

  def get_config(self):
    return {**super().get_config(), "kind": self.kind,
            "seed": self.seed, "num_models": self.num_models}
