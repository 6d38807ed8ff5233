"""Multiscale SurVAE image flows (RealNVP/Glow factor-out or max-pooling), optionally class-conditional."""
import math

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.bijectors.squeeze import Squeeze
from tfp_flows.checks import check_choice, check_values
from tfp_flows.layers.actnorm import ActNorm
from tfp_flows.layers.conv_affine_coupling import ConvAffineCoupling
from tfp_flows.layers.conv_spline_coupling import ConvSplineCoupling
from tfp_flows.layers.flow import chain
from tfp_flows.layers.lu_linear import LULinear
from tfp_flows.layers.surjections.channel_slice import ChannelSlice
from tfp_flows.layers.surjections.maxpool_overlap import MaxPool2DOverlap
from tfp_flows.surjections.base import likelihood
from tfp_flows.layers.surjections.uniform_dequantization import UniformDequantization
from tfp_flows.layers.surjections.maxpool import MaxPool2D

tfd, tfb = tfp.distributions, tfp.bijectors
REDUCTIONS = (None, "slice", "maxpool", "maxpool_overlap")
COUPLINGS = {"affine": ConvAffineCoupling, "spline": ConvSplineCoupling}


@keras.saving.register_keras_serializable(package="tfp_flows")
class ImageFlow(keras.Model):
  """Dequantization, then per scale: flow steps and a dimension reduction; N(0, I) at the end.

  Density direction (data -> latent), as RealNVP/Glow (Dinh et al. 2017,
  Kingma & Dhariwal 2018) and SurVAE's image flows (Nielsen et al. 2020,
  Sec. 5.3): uniform dequantization of the `num_bits` integer pixels to
  [0, 1); per scale, `steps` x (ActNorm over channels, an invertible 1x1
  convolution (`LULinear`, when C > 1), a coupling with a ResNet conditioner:
  channel mask when C > 1, else checkerboard, parity alternating), then the
  scale's reduction: `"slice"` (squeeze, then factor out half the channels,
  `ChannelSlice`), `"maxpool"` (`MaxPool2D`, exact) or `"maxpool_overlap"`
  (`MaxPool2DOverlap`, approximate). With `num_classes` the couplings and
  slice decoders see the one-hot label. `log_prob` is a bound (uniform
  dequantization), or approximate with an overlapping pool: see `likelihood`.

  `fit` takes `x={"image": [N, H, W, C] integers as floats, "label": [N] ints}`
  (label only for a conditional model); the loss is bits/dim of the
  one-sample bound.

  Args:
    scales: list of dicts `{"steps": n, "reduce": one of REDUCTIONS, "pool_size": k,
      "stride": s}`; every scale but the last reduces, the last does not.
    image_shape: `(H, W, C)`.
    num_bits: bits per pixel value (values in [0, 2^bits - 1]).
    num_classes: K for a class-conditional model, or `None`.
    coupling: `"affine"` or `"spline"`.
    filters: conditioner channels.
    num_blocks: conditioner ResNet blocks.
    **kwargs: passed to `keras.Model`.

  Raises:
    ValueError: for bad sizes, reductions or pool sizes/strides that do not
      tile the image (at construction); images of another shape, values
      outside [0, 2^bits - 1], labels outside [0, K) or a missing label of a
      conditional model (`check_data`, and in `call`).
  """

  def __init__(self, scales, image_shape=(28, 28, 1), num_bits=8, num_classes=None,
               coupling="affine", filters=32, num_blocks=1, **kwargs):
    super().__init__(**kwargs)
    self.image_shape = tuple(int(s) for s in image_shape)
    if len(self.image_shape) != 3 or min(self.image_shape) < 1 or not 1 <= int(num_bits) <= 16:
      raise ValueError(f"need image_shape (H, W, C) and 1 <= num_bits <= 16, got "
                       f"image_shape={image_shape}, num_bits={num_bits}.")
    if num_classes is not None and int(num_classes) < 2:
      raise ValueError(f"num_classes must be None or >= 2, got {num_classes}.")
    check_choice("ImageFlow", "coupling", coupling, tuple(sorted(COUPLINGS)))
    scales = [dict(s) for s in scales]
    reduces = [s.get("reduce") for s in scales]
    if not scales or reduces[-1] is not None or None in reduces[:-1] or any(
        r not in REDUCTIONS for r in reduces) or min(int(s["steps"]) for s in scales) < 0:
      raise ValueError(f"scales must be a non-empty list whose entries reduce with one of "
                       f"{REDUCTIONS[1:]} except the last (reduce None), steps >= 0; got {scales}.")
    self.num_bits, self.num_classes = int(num_bits), num_classes
    self._config = dict(scales=scales, image_shape=self.image_shape, num_bits=self.num_bits,
                        num_classes=num_classes, coupling=coupling, filters=filters,
                        num_blocks=num_blocks)
    self.dequantization = UniformDequantization(self.num_bits)
    self.scale_shapes, self.scale_steps, self.reducers = [], [], []
    shape, conv = self.image_shape, dict(filters=filters, num_blocks=num_blocks,
                                         context_size=num_classes, dtype=self.dtype_policy)
    for scale in scales:
      self.scale_shapes.append(shape)
      self.scale_steps.append(self._steps(shape, int(scale["steps"]), COUPLINGS[coupling], conv))
      reducer, shape = self._reducer(scale, shape, conv)
      self.reducers.append(reducer)
    self.latent_shape = shape
    self.built = True  # every layer is built above

  def _steps(self, shape, count, cls, conv):
    steps = []
    for i in range(count):
      steps.append(ActNorm(shape[-1], dtype=self.dtype_policy))
      if shape[-1] > 1:
        steps.append(LULinear(shape[-1], dtype=self.dtype_policy))
      steps.append(cls(shape, mask="channel" if shape[-1] > 1 else "checkerboard",
                       parity=i % 2, **conv))
    return steps

  def _reducer(self, scale, shape, conv):
    """The reduction layer of a scale and the shape after it."""
    kind = scale.get("reduce")
    if kind is None:
      return None, shape
    if kind == "slice":
      squeezed = Squeeze(shape).squeezed_shape
      layer = ChannelSlice(squeezed, squeezed[-1] // 2, **conv)
      return layer, layer.output_image_shape
    k = int(scale.get("pool_size", 2))
    if kind == "maxpool":
      return MaxPool2D(shape, k, dtype=self.dtype_policy), (shape[0] // k, shape[1] // k,
                                                            shape[2])
    layer = MaxPool2DOverlap(shape, k, int(scale.get("stride", k - 1)), dtype=self.dtype_policy)
    return layer, layer.output_image_shape

  @property
  def num_dims(self):
    """D = H * W * C, the denominator of bits/dim."""
    return math.prod(self.image_shape)

  def context(self, label):
    """The one-hot context `[batch, K]` of integer labels `[batch]`, or `None` for an unconditional model.

    Raises:
      ValueError: for a missing label of a conditional model, a label given to
        an unconditional one, or labels outside [0, K).
    """
    if self.num_classes is None:
      if label is not None:
        raise ValueError("this ImageFlow is unconditional (num_classes=None) but got labels.")
      return None
    if label is None:
      raise ValueError(f"this ImageFlow is class-conditional (num_classes={self.num_classes}) "
                       f"and needs a label for every image.")
    label = tf.cast(label, tf.int32)
    check_values("ImageFlow", "labels", label, (label >= 0) & (label < self.num_classes),
                 f"in [0, {self.num_classes - 1}] (num_classes={self.num_classes})")
    return tf.one_hot(label, self.num_classes, dtype=self.compute_dtype)

  def distribution(self, label=None, training=None, temperature=1.0):
    """The model over integer images `[H, W, C]` (a SurVAE distribution; `likelihood` tells its contract).

    Args:
      label: `[batch]` int labels (conditional models), else `None`.
      training: passed to the steps (ActNorm's data-dependent initialisation).
      temperature: standard deviation of the base and of the slice decoders'
        noise relative to training (Glow's reduced-temperature sampling).
    """
    context = self.context(label)
    dist = tfd.Sample(tfd.Normal(tf.constant(0.0, self.compute_dtype), temperature),
                      self.latent_shape)
    for shape, steps, reducer in reversed(list(zip(self.scale_shapes, self.scale_steps,
                                                   self.reducers))):
      if isinstance(reducer, ChannelSlice):
        dist = tfd.TransformedDistribution(reducer.distribution(dist, context, temperature),
                                           tfb.Invert(Squeeze(shape)))
      elif reducer is not None:
        dist = reducer.distribution(dist)  # the pooling layers take no context
      if steps:
        dist = tfd.TransformedDistribution(dist, chain(steps, context, training))
    return self.dequantization.distribution(dist)

  @property
  def likelihood(self):
    """"bound" (dequantization) or "approximate" (with an overlapping pool): see `surjections.base`."""
    return likelihood(self.distribution(label=None if self.num_classes is None else
                                        tf.zeros([1], tf.int32)))

  def _unpack(self, inputs):
    image, label = (inputs.get("image"), inputs.get("label")) if isinstance(inputs, dict) \
        else (inputs, None)
    image = tf.convert_to_tensor(image, self.compute_dtype)
    if image.shape.rank != 4 or tuple(image.shape[1:]) != self.image_shape:
      raise ValueError(f"images have shape {tuple(image.shape)}, expected [batch, "
                       f"{', '.join(map(str, self.image_shape))}].")
    return image, label

  def call(self, inputs, training=None):
    """`log_prob` (one-sample bound) per image, `[batch]` nats; inputs `{"image", "label"}` or images."""
    image, label = self._unpack(inputs)
    return self.distribution(label, training).log_prob(image)

  def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
    """Bits/dim of the one-sample bound, the mean over the batch."""
    return -tf.reduce_mean(y_pred) / (self.num_dims * math.log(2.0))

  def check_data(self, images, labels=None):
    """Validates a data set before any work (NumPy).

    Args:
      images: `[N, H, W, C]` integer pixel values (any dtype).
      labels: `[N]` ints for a conditional model, else `None`.

    Raises:
      ValueError: naming the offending shape or value.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1:] != self.image_shape:
      raise ValueError(f"images have shape {images.shape}, expected [N, "
                       f"{', '.join(map(str, self.image_shape))}].")
    top = 2 ** self.num_bits - 1
    bad = (images != np.floor(images)) | (images < 0) | (images > top)
    if bad.any():
      index = tuple(int(i) for i in np.argwhere(bad)[0])
      raise ValueError(f"images must hold integers in [0, {top}] ({self.num_bits} bits); "
                       f"images{list(index)} = {images[index]}.")
    if (labels is None) != (self.num_classes is None):
      self.context(None if labels is None else tf.zeros([1], tf.int32))  # raises the message
    if labels is not None:
      labels = np.asarray(labels)
      if labels.shape != images.shape[:1]:
        raise ValueError(f"labels have shape {labels.shape}, expected [{images.shape[0]}].")
      self.context(labels)

  def bits_per_dim(self, images, labels=None, num_samples=1, batch_size=256):
    """Per-image bits/dim `[N]` NumPy, importance-weighted over `num_samples` dequantizations.

    `-log((1/k) sum_i exp(log_prob_i)) / (D log 2)` over k independent
    passes (Burda et al. 2016; as `metrics.log_likelihood`, with the labels
    repeated alongside the images); a bound, or approximate (see
    `likelihood`). `batch_size` counts image-passes per evaluation.
    """
    self.check_data(images, labels)
    k = int(num_samples)
    if k < 1:
      raise ValueError(f"num_samples must be >= 1, got {num_samples}.")

    @tf.function(reduce_retracing=True)
    def fn(x, y):
      n = tf.shape(x)[0]
      reps = tf.tile(x, [k, 1, 1, 1])
      label = None if y is None else tf.tile(y, [k])
      log_p = tf.reshape(self.distribution(label).log_prob(reps), [k, n])
      return tf.reduce_logsumexp(log_p, axis=0) - math.log(k)

    step, out = max(1, batch_size // k), []
    for i in range(0, len(images), step):
      y = None if labels is None else tf.constant(labels[i:i + step], tf.int32)
      out.append(fn(tf.constant(images[i:i + step], self.compute_dtype), y).numpy())
    return -np.concatenate(out) / (self.num_dims * math.log(2.0))

  def encode(self, images, labels=None, seed=None):
    """The base latent `[N, *latent_shape]` of images (one uniform dequantization draw), data -> latent.

    What `log_prob` feeds the N(0, I) base; for a trained model it should look
    standard normal (the reproduction's diagnostic plot).
    """
    self.check_data(images, labels)
    context = self.context(labels)
    x = (tf.constant(images, self.compute_dtype) + tf.random.stateless_uniform(
        tf.shape(images), seed if seed is not None else [0, 0], dtype=self.compute_dtype)
         ) / 2 ** self.num_bits
    for shape, steps, reducer in zip(self.scale_shapes, self.scale_steps, self.reducers):
      if steps:
        x = chain(steps, context).inverse(x)
      if isinstance(reducer, ChannelSlice):
        x = Squeeze(shape).forward(x)
      if reducer is not None:
        x = reducer(x)
    return x.numpy()

  def sample(self, labels=None, n=None, temperature=1.0, seed=None):
    """Integer images `[n, H, W, C]`: one per label of `labels [n]` (conditional) or `n` (unconditional)."""
    if labels is not None:
      labels = tf.constant(labels, tf.int32)
      n = int(labels.shape[0])
    return self.distribution(labels, temperature=temperature).sample(n, seed=seed)

  def get_config(self):
    return {**super().get_config(), **self._config}
