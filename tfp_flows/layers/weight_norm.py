"""Weight normalization (Salimans & Kingma 2016) as one Keras 3 wrapper for Dense and convs."""

import keras
from keras import ops

_TRANSPOSED = (
  keras.layers.Conv1DTranspose,
  keras.layers.Conv2DTranspose,
  keras.layers.Conv3DTranspose,
)


@keras.saving.register_keras_serializable(package="tfp_flows")
class WeightNorm(keras.layers.Wrapper):
  """The wrapped layer run with kernel `w = g * v / ||v||` (Salimans & Kingma 2016, eq. 2).

  `v` is the wrapped layer's own `kernel` variable and `g` `[out]` is this
  wrapper's `g`; `||v||` is taken over every kernel axis but the
  output-channel axis (the last one of `Dense` `[in, out]` and `Conv2D`
  `[kh, kw, in, out]`; the second last of `Conv2DTranspose`
  `[kh, kw, out, in]`). `g` starts at `||v_init||`, so the wrapped layer
  starts equal to the plain layer with the same initial kernel (no
  data-dependent initialisation). The bias and activation stay the wrapped
  layer's. The kernel is swapped in for one call through
  `keras.StatelessScope` (no Python state changes in `call`), so the
  wrapper works in `tf.function` and under `tf.distribute` strategies, and the
  gradient reaches `g`, `v` and the bias.

  Shapes: those of the wrapped layer.

  Args:
    layer: a Keras layer with a `kernel` weight whose output channels lie on
      its last axis (`Dense`, `ConvND`) or, for `ConvNDTranspose`, its second
      last axis.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    ValueError: in `build`, if the wrapped layer has no weight named `kernel`.

  Example:
    >>> conv = WeightNorm(keras.layers.Conv2D(16, 3, padding="same"))
    >>> conv(np.zeros([2, 28, 28, 1], "float32")).shape
    TensorShape([2, 28, 28, 16])
  """

  def build(self, input_shape):
    super().build(input_shape)
    kernels = [w for w in self.layer.weights if w.name == "kernel"]
    if len(kernels) != 1:
      raise ValueError(
        f"WeightNorm needs a layer with one weight named 'kernel'; "
        f"{self.layer.name} has {[w.name for w in self.layer.weights]}."
      )
    v = kernels[0]
    rank = len(v.shape)
    self.out_axis = rank - 2 if isinstance(self.layer, _TRANSPOSED) else rank - 1
    self.norm_axes = tuple(i for i in range(rank) if i != self.out_axis)
    self.g = self.add_weight(
      name="g",
      shape=(v.shape[self.out_axis],),
      dtype=v.dtype,
      initializer=lambda shape, dtype: ops.cast(ops.reshape(self._norm(), shape), dtype),
    )

  @property
  def v(self):
    """The wrapped layer's kernel variable (not tracked twice: looked up, not stored)."""
    return next(w for w in self.layer.weights if w.name == "kernel")

  def _norm(self):
    """`||v||` over every axis but the output axis, with kept dimensions."""
    return ops.sqrt(ops.sum(ops.square(self.v), axis=self.norm_axes, keepdims=True))

  def kernel(self):
    """The normalised kernel `g * v / ||v||`, shaped like `v`."""
    g = ops.reshape(self.g, [-1 if i == self.out_axis else 1 for i in range(len(self.v.shape))])
    return self.v * (g / self._norm())

  def call(self, inputs):
    v = self.v
    with keras.StatelessScope(state_mapping=[(v, self.kernel())]):
      return self.layer(inputs)

  def compute_output_shape(self, input_shape):
    return self.layer.compute_output_shape(input_shape)
