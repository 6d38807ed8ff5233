"""ResNet encoder and decoder of the MNIST IAF-VAE (Kingma et al. 2016, appendix)."""

import math

import keras
from keras import ops

from tfp_flows.layers.weight_norm import WeightNorm

MIN_SCALE = 1e-5  # floor of the encoder's scale: softplus underflows to 0 for inputs below ~-100


def _conv(filters, kernel_size, stride=1, transpose=False, dtype=None):
  """A weight-normed 'same'-padded `Conv2D` (or `Conv2DTranspose` when `transpose`)."""
  cls = keras.layers.Conv2DTranspose if transpose else keras.layers.Conv2D
  return WeightNorm(
    cls(filters, kernel_size, strides=stride, padding="same", dtype=dtype), dtype=dtype
  )


def _dense(units, activation=None, dtype=None):
  """A weight-normed `keras.layers.Dense`."""
  return WeightNorm(keras.layers.Dense(units, activation=activation, dtype=dtype), dtype=dtype)


def _positive_ints(name, values):
  """`values` as a tuple of ints; raises ValueError unless it is non-empty and all positive."""
  values = tuple(int(v) for v in values)
  if not values or min(values) < 1:
    raise ValueError(f"{name} must be a non-empty sequence of positive integers, got {values}.")
  return values


@keras.saving.register_keras_serializable(package="tfp_flows")
class ResNetBlock(keras.layers.Layer):
  """Residual block `y = elu(shortcut(x) + conv_b(elu(conv_a(x))))`, same, down or up.

  The post-activation block of He et al. 2016 ("Deep Residual Learning",
  Fig. 2) with ELU and weight normalization instead of ReLU and batch norm,
  as in the IAF-VAE's ResNets (Kingma et al. 2016, appendix). `conv_a` is a
  3x3 convolution with stride 1 (`resample=None`), stride 2
  (`"down"`: `Conv2D`, size `ceil(n / 2)`) or a stride-2 `Conv2DTranspose`
  (`"up"`: size `2 n`); `conv_b` is a 3x3 stride-1 convolution. The shortcut
  is the identity when shapes agree, otherwise a weight-normed projection of
  the same direction with kernel size = stride (1x1 for a change of
  channels only; 2x2 stride 2 down or up, so every output pixel sees the
  input). All padding is 'same'.

  Shapes: `[batch, H, W, C_in]` -> `[batch, H', W', filters]` (NHWC).

  Args:
    filters: output channels.
    resample: `None`, `"down"` or `"up"`.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    ValueError: if `filters < 1` or `resample` is not one of the three values.
  """

  def __init__(self, filters, resample=None, **kwargs):
    super().__init__(**kwargs)
    if int(filters) < 1 or resample not in (None, "down", "up"):
      raise ValueError(
        f"ResNetBlock needs filters >= 1 and resample in (None, 'down', 'up'), "
        f"got filters={filters}, resample={resample!r}."
      )
    self.filters, self.resample = int(filters), resample
    self.stride = 1 if resample is None else 2
    dtype = self.dtype_policy
    self.conv_a = _conv(self.filters, 3, self.stride, resample == "up", dtype)
    self.conv_b = _conv(self.filters, 3, 1, False, dtype)
    self.shortcut = None

  def build(self, input_shape):
    if self.resample is not None or input_shape[-1] != self.filters:
      self.shortcut = _conv(
        self.filters, self.stride, self.stride, self.resample == "up", self.dtype_policy
      )
      self.shortcut.build(input_shape)
    self.conv_a.build(input_shape)
    self.conv_b.build(self.compute_output_shape(input_shape))

  def compute_output_shape(self, input_shape):
    return self.conv_a.compute_output_shape(input_shape)

  def call(self, x):
    h = self.conv_b(ops.elu(self.conv_a(x)))
    return ops.elu(h + (x if self.shortcut is None else self.shortcut(x)))

  def get_config(self):
    return {**super().get_config(), "filters": self.filters, "resample": self.resample}


@keras.saving.register_keras_serializable(package="tfp_flows")
class ResNetEncoder(keras.layers.Layer):
  """MNIST encoder of the IAF-VAE (Kingma et al. 2016, appendix): x -> (loc, scale, context h).

  Per entry c of `channels`: a stride-2 `ResNetBlock` (down) then a stride-1
  one, so 28 -> 14 -> 7 -> 4 ('same' padding rounds up); then flatten, a
  weight-normed dense layer of `hidden_units` with ELU, and three
  weight-normed dense heads: `loc`, `scale = softplus(raw) + 1e-5` (softplus
  rather than `exp(log_var / 2)`: it grows linearly, so a large output cannot
  overflow, and the floor keeps `log scale` finite where softplus underflows)
  and the context `h = elu(dense)` fed to every IAF step. All layers are
  built at construction (the image shape is fixed). The defaults have
  546,812 weights (g, v and biases).

  Shapes: `x` `[batch, *image_shape]` (NHWC) -> `(loc [batch, L],
  scale [batch, L], h [batch, context_size])`.

  Args:
    latent_size: L.
    channels: channels of the resolution stages.
    hidden_units: width of the dense layer after the convolutions.
    context_size: width of the context h, or `None` for no context (h is `None`; a
      diagonal posterior has no use for it).
    image_shape: `(H, W, C)` of the input images.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    ValueError: for non-positive sizes; in `call`, for an input whose shape
      is not `[batch, *image_shape]`.
  """

  def __init__(
    self,
    latent_size=32,
    channels=(16, 32, 32),
    hidden_units=450,
    context_size=450,
    image_shape=(28, 28, 1),
    **kwargs,
  ):
    super().__init__(**kwargs)
    self.channels = _positive_ints("channels", channels)
    self.image_shape = _positive_ints("image_shape", image_shape)
    self.latent_size, self.hidden_units = _positive_ints(
      "latent_size and hidden_units", (latent_size, hidden_units)
    )
    self.context_size = (
      None if context_size is None else _positive_ints("context_size", (context_size,))[0]
    )
    if len(self.image_shape) != 3:
      raise ValueError(f"image_shape must be (H, W, C), got {self.image_shape}.")
    dtype = self.dtype_policy
    self.blocks = [
      ResNetBlock(c, resample, dtype=dtype) for c in self.channels for resample in ("down", None)
    ]
    self.hidden = _dense(self.hidden_units, "elu", dtype)
    self.loc = _dense(self.latent_size, dtype=dtype)
    self.raw_scale = _dense(self.latent_size, dtype=dtype)
    self.context = None if self.context_size is None else _dense(self.context_size, "elu", dtype)
    shape = (None,) + self.image_shape
    for block in self.blocks:
      block.build(shape)
      shape = block.compute_output_shape(shape)
    self.flat_size = math.prod(shape[1:])
    self.hidden.build((None, self.flat_size))
    for head in (self.loc, self.raw_scale, self.context)[: 3 if self.context else 2]:
      head.build((None, self.hidden_units))
    self.built = True

  def call(self, x):
    if len(x.shape) != 4 or any(
      d is not None and d != e for d, e in zip(x.shape[1:], self.image_shape)
    ):
      raise ValueError(
        f"{self.name} expects images of shape [batch, "
        f"{', '.join(map(str, self.image_shape))}], got shape {tuple(x.shape)}."
      )
    for block in self.blocks:
      x = block(x)
    h = self.hidden(ops.reshape(x, (-1, self.flat_size)))
    context = None if self.context is None else self.context(h)
    return self.loc(h), ops.softplus(self.raw_scale(h)) + MIN_SCALE, context

  def get_config(self):
    return {
      **super().get_config(),
      "latent_size": self.latent_size,
      "channels": self.channels,
      "hidden_units": self.hidden_units,
      "context_size": self.context_size,
      "image_shape": self.image_shape,
    }


@keras.saving.register_keras_serializable(package="tfp_flows")
class ResNetDecoder(keras.layers.Layer):
  """MNIST decoder of the IAF-VAE (Kingma et al. 2016, appendix): z -> Bernoulli logits.

  The mirror of `ResNetEncoder`: weight-normed dense `hidden_units` (ELU),
  dense to `[h0, w0, channels[0]]` (ELU), then per entry c of `channels` a
  stride-1 `ResNetBlock` and an up-sampling one (`Conv2DTranspose`, size
  doubles), and a weight-normed 3x3 convolution to the image channels
  (logits, no activation). The sizes are the encoder's read backwards,
  `n -> ceil(n / 2)` per stage (28, 14, 7, 4): an up-sampled map larger than
  its target is cropped to its top-left corner (8x8 -> 7x7, dropping the
  last row and column; the encoder's 7 -> 4 reads input rows 0, 2, 4, 6, and
  the transposed convolution writes them back to rows 0..6). The layers are
  built on the first call (the latent width L is read from it). The defaults
  with L = 32 have 342,678 weights (g, v and biases).

  Shapes: `z` `[batch, L]` -> logits `[batch, *output_shape]` (NHWC).

  Args:
    output_shape: `(H, W, C)` of the images.
    channels: channels of the resolution stages, from the coarsest.
    hidden_units: width of the first dense layer.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    ValueError: for non-positive sizes or an `output_shape` not of rank 3; on
      the first call (or later) for a `z` not of shape `[batch, L]`.
  """

  def __init__(self, output_shape=(28, 28, 1), channels=(32, 32, 16), hidden_units=450, **kwargs):
    super().__init__(**kwargs)
    self.image_shape = _positive_ints("output_shape", output_shape)
    self.channels = _positive_ints("channels", channels)
    self.hidden_units = _positive_ints("hidden_units", (hidden_units,))[0]
    if len(self.image_shape) != 3:
      raise ValueError(f"output_shape must be (H, W, C), got {self.image_shape}.")
    sizes = [self.image_shape[:2]]
    for _ in self.channels:
      sizes.append(tuple(-(-n // 2) for n in sizes[-1]))
    self.sizes = sizes[::-1]  # coarsest first: (4, 4), (7, 7), (14, 14), (28, 28)
    dtype = self.dtype_policy
    self.hidden = _dense(self.hidden_units, "elu", dtype)
    self.project = _dense(math.prod(self.sizes[0]) * self.channels[0], "elu", dtype)
    self.blocks = [
      ResNetBlock(c, resample, dtype=dtype) for c in self.channels for resample in (None, "up")
    ]
    self.out = _conv(self.image_shape[-1], 3, dtype=dtype)

  def _check(self, shape, latent_size):
    if len(shape) != 2 or shape[-1] is None or latent_size not in (None, shape[-1]):
      expected = "L" if latent_size is None else latent_size
      raise ValueError(
        f"{self.name} expects z of shape [batch, {expected}], got shape {tuple(shape)}."
      )

  def build(self, z_shape):
    self._check(z_shape, None)
    self.latent_size = int(z_shape[-1])
    self.hidden.build(z_shape)
    self.project.build((None, self.hidden_units))
    shape = (None,) + self.sizes[0] + (self.channels[0],)
    for i, block in enumerate(self.blocks):  # block i ends at size sizes[(i + 1) // 2]
      block.build(shape)
      shape = (None,) + self.sizes[(i + 1) // 2] + (block.filters,)
    self.out.build(shape)

  def call(self, z):
    self._check(z.shape, self.latent_size)
    x = ops.reshape(self.project(self.hidden(z)), (-1,) + self.sizes[0] + (self.channels[0],))
    for i, block in enumerate(self.blocks):
      x = block(x)
      height, width = self.sizes[(i + 1) // 2]
      if tuple(x.shape[1:3]) != (height, width):
        x = x[:, :height, :width, :]
    return self.out(x)

  def get_config(self):
    return {
      **super().get_config(),
      "output_shape": self.image_shape,
      "channels": self.channels,
      "hidden_units": self.hidden_units,
    }
