"""Convolutional ResNet conditioner of image coupling steps, optionally conditioned on a class label."""
import keras
import tensorflow as tf
from keras import ops

from tfp_flows.layers.step import check_context
from tfp_flows.layers.resnet import ResNetBlock


@keras.saving.register_keras_serializable(package="tfp_flows")
class ConvConditioner(keras.layers.Layer):
  """`[..., H, W, C_in]` (and a context `[..., K]`) -> `[..., H, W, C_out]` by a ResNet.

  A 3x3 convolution to `filters` channels, plus a dense projection of the
  context added as a per-channel bias (on a one-hot class label this is a
  learned class embedding, as in class-conditional Glow), an ELU, `num_blocks`
  `ResNetBlock`s (3x3, ELU, weight norm; the IAF-VAE's blocks) and a 3x3
  output convolution that starts at zero (so a coupling driven by it starts
  at its zero-parameter transform). Any leading batch shape is flattened for
  the convolutions.

  Shapes: x `[..., H, W, C_in]`, context `[..., K]` broadcast against x's
  batch shape; output `[..., H, W, C_out]`.

  Args:
    image_shape: `(H, W, C_in)`.
    out_channels: C_out.
    filters: hidden channels.
    num_blocks: ResNet blocks (>= 0).
    context_size: K (e.g. the number of classes of a one-hot label), or `None`.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    ValueError: for non-positive sizes; in `call`, for inputs not `[..., H, W, C_in]`
      or a context missing, unexpected or of the wrong width.
  """

  def __init__(self, image_shape, out_channels, filters=32, num_blocks=1, context_size=None,
               **kwargs):
    super().__init__(**kwargs)
    shape = tuple(int(s) for s in image_shape)
    if len(shape) != 3 or min(shape + (int(out_channels), int(filters))) < 1 or num_blocks < 0:
      raise ValueError(f"ConvConditioner needs image_shape (H, W, C) and positive out_channels "
                       f"and filters, num_blocks >= 0; got image_shape={image_shape}, "
                       f"out_channels={out_channels}, filters={filters}, num_blocks={num_blocks}.")
    self.image_shape, self.out_channels = shape, int(out_channels)
    self.filters, self.num_blocks = int(filters), int(num_blocks)
    self.context_size = None if context_size is None else int(context_size)
    dtype = self.dtype_policy
    self.conv_in = keras.layers.Conv2D(self.filters, 3, padding="same", dtype=dtype)
    self.blocks = [ResNetBlock(self.filters, dtype=dtype) for _ in range(self.num_blocks)]
    self.conv_out = keras.layers.Conv2D(self.out_channels, 3, padding="same", dtype=dtype,
                                        kernel_initializer="zeros")
    self.embed = None if self.context_size is None else keras.layers.Dense(
        self.filters, use_bias=False, dtype=dtype)
    hidden = (None, shape[0], shape[1], self.filters)
    self.conv_in.build((None,) + shape)
    for block in self.blocks:
      block.build(hidden)
    self.conv_out.build(hidden)
    if self.embed is not None:
      self.embed.build((None, self.context_size))
    self.built = True

  def call(self, x, context=None):
    context = check_context(context, self.context_size, self.name)
    if x.shape.rank is not None and tuple(x.shape[-3:]) != self.image_shape:
      raise ValueError(f"{self.name} expects inputs [..., {', '.join(map(str, self.image_shape))}],"
                       f" got shape {tuple(x.shape)}.")
    batch = tf.shape(x)[:-3]
    if context is not None:
      batch = tf.broadcast_dynamic_shape(batch, tf.shape(context)[:-1])
      context = tf.reshape(tf.broadcast_to(context, tf.concat([batch, [self.context_size]], 0)),
                           [-1, self.context_size])
      x = tf.broadcast_to(x, tf.concat([batch, self.image_shape], 0))
    h = self.conv_in(tf.reshape(x, [-1, *self.image_shape]))
    if context is not None:
      h = h + self.embed(context)[:, None, None, :]
    h = ops.elu(h)
    for block in self.blocks:
      h = block(h)
    out = self.conv_out(h)
    return tf.reshape(out, tf.concat([batch, [*self.image_shape[:2], self.out_channels]], 0))

  def get_config(self):
    return {**super().get_config(), "image_shape": self.image_shape,
            "out_channels": self.out_channels, "filters": self.filters,
            "num_blocks": self.num_blocks, "context_size": self.context_size}
