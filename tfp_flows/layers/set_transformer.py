"""Transformer encoder over the points of a set (Vaswani et al. 2017), the conditioner of set couplings."""
import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="tfp_flows")
class SetTransformer(keras.layers.Layer):
  """Transformer encoder over the N points of a set: `[..., N, F] -> [..., N, output_size]`.

  Embedding `Dense(width)`, then `num_blocks` pre-norm blocks
  `h += MultiHeadAttention(LN(h))`, `h += MLP(LN(h))` (Keras 3 `MultiHeadAttention`,
  `LayerNormalization`, two `Dense` layers), a final `LayerNormalization` and a `Dense` output
  layer that starts at zero. Without positions every part acts on each point alone or through
  attention over all points, so the map is permutation-equivariant: permuting the N input points
  permutes the output rows the same way (Lee et al. 2019, "Set Transformer", Sec. 3.1: a
  stack of self-attention blocks without positional encoding). With `num_positions=N` a learned
  position embedding `[N, width]` is added after the embedding, for ordered sequences (the
  sorted points of SortFlow); the map is then no longer equivariant. An optional set-wise
  context `[..., C]` (e.g. a one-hot label) is embedded by `Dense(width)` and added to every
  point, which keeps equivariance.

  Shapes: x `[..., N, F]` (any batch shape; attention runs over N only), context `[..., C]`;
  output `[..., N, output_size]`.

  Args:
    input_size: F.
    output_size: width of the output per point.
    width: model width (divisible by `num_heads`).
    num_heads: attention heads.
    num_blocks: number of attention + MLP blocks.
    mlp_ratio: hidden width of each block's MLP is `mlp_ratio * width`.
    context_size: C, or None.
    num_positions: N for a learned positional encoding, or None (equivariant).
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    ValueError: for non-positive sizes, `width` not divisible by `num_heads`; in `call`, for
      inputs of another width F, or another N than `num_positions`.
  """

  def __init__(self, input_size, output_size, width=64, num_heads=4, num_blocks=2, mlp_ratio=2,
               context_size=None, num_positions=None, **kwargs):
    super().__init__(**kwargs)
    sizes = dict(input_size=input_size, output_size=output_size, width=width,
                 num_heads=num_heads, num_blocks=num_blocks, mlp_ratio=mlp_ratio)
    for name, value in sizes.items():
      if int(value) < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    if int(width) % int(num_heads):
      raise ValueError(f"width must be divisible by num_heads, got width={width}, "
                       f"num_heads={num_heads}.")
    for name, value in (("context_size", context_size), ("num_positions", num_positions)):
      if value is not None and int(value) < 1:
        raise ValueError(f"{name} must be None or a positive integer, got {value!r}.")
    self._config = {**{k: int(v) for k, v in sizes.items()},
                    "context_size": None if context_size is None else int(context_size),
                    "num_positions": None if num_positions is None else int(num_positions)}
    self.input_size, self.width = int(input_size), int(width)
    self.context_size, self.num_positions = self._config["context_size"], self._config["num_positions"]
    dense = lambda units, **kw: keras.layers.Dense(units, dtype=self.dtype_policy, **kw)
    norm = lambda: keras.layers.LayerNormalization(dtype=self.dtype_policy)
    self.embed = dense(self.width)
    self.embed.build((None, self.input_size))
    self.context_embed = None
    if self.context_size is not None:
      self.context_embed = dense(self.width, use_bias=False)
      self.context_embed.build((None, self.context_size))
    self.positions = None
    if self.num_positions is not None:
      self.positions = self.add_weight(
          name="positions", shape=(self.num_positions, self.width),
          initializer=keras.initializers.RandomNormal(stddev=0.02))
    hidden, shape = int(mlp_ratio) * self.width, (None, None, self.width)
    self.attention, self.norm1, self.norm2, self.mlp1, self.mlp2 = [], [], [], [], []
    for _ in range(int(num_blocks)):
      attention = keras.layers.MultiHeadAttention(
          int(num_heads), self.width // int(num_heads), dtype=self.dtype_policy)
      attention.build(shape, shape)
      self.attention.append(attention)
      for layers, layer in ((self.norm1, norm()), (self.norm2, norm()),
                            (self.mlp1, dense(hidden, activation="gelu"))):
        layer.build(shape)
        layers.append(layer)
      self.mlp2.append(dense(self.width))
      self.mlp2[-1].build((None, None, hidden))
    self.final_norm = norm()
    self.final_norm.build((None, None, self.width))
    self.out = dense(int(output_size), kernel_initializer="zeros")
    self.out.build((None, None, self.width))
    self.built = True

  def call(self, x, context=None):
    """The encoder output `[..., N, output_size]` for points x `[..., N, F]` (and context)."""
    x = tf.convert_to_tensor(x, self.compute_dtype)
    if x.shape[-1] is not None and x.shape[-1] != self.input_size:
      raise ValueError(f"{self.name} expects points of shape [..., N, {self.input_size}], got "
                       f"shape {tuple(x.shape)}.")
    n = tf.shape(x)[-2]
    if self.num_positions is not None and x.shape[-2] not in (None, self.num_positions):
      raise ValueError(f"{self.name} has positions for sets of {self.num_positions} points, "
                       f"got {x.shape[-2]}.")
    if (context is None) != (self.context_size is None):
      raise ValueError(f"{self.name} was built with context_size={self.context_size} but got "
                       f"context {None if context is None else tuple(context.shape)}.")
    batch = tf.shape(x)[:-2]
    if context is not None:
      context = tf.convert_to_tensor(context, self.compute_dtype)
      batch = tf.broadcast_dynamic_shape(batch, tf.shape(context)[:-1])
      x = tf.broadcast_to(x, tf.concat([batch, tf.shape(x)[-2:]], 0))
    h = self.embed(tf.reshape(x, [-1, n, self.input_size]))
    if context is not None:
      context = tf.broadcast_to(context, tf.concat([batch, [self.context_size]], 0))
      h = h + self.context_embed(tf.reshape(context, [-1, 1, self.context_size]))
    if self.positions is not None:
      h = h + self.positions
    for attention, norm1, norm2, mlp1, mlp2 in zip(self.attention, self.norm1, self.norm2,
                                                   self.mlp1, self.mlp2):
      a = norm1(h)
      h = h + attention(a, a)
      h = h + mlp2(mlp1(norm2(h)))
    out = self.out(self.final_norm(h))
    return tf.reshape(out, tf.concat([batch, tf.shape(out)[-2:]], 0))

  def get_config(self):
    return {**super().get_config(), **self._config}
