"""Squeeze (space-to-depth) of `[H, W, C]` images as a `tfb.Bijector` (RealNVP, Dinh et al. 2017, Sec. 3.6)."""
import tensorflow as tf
import tensorflow_probability as tfp

tfb = tfp.bijectors


class Squeeze(tfb.Bijector):
  """Space-to-depth: `forward` maps `[..., H, W, C]` to `[..., H/f, W/f, f*f*C]`; unit Jacobian.

  Each `f x f` block of pixels becomes one pixel with `f*f*C` channels, in the
  order of `tf.nn.space_to_depth`: output channel `(a*f + b)*C + c` holds input
  pixel `(i*f + a, j*f + b, c)`. The map is a permutation of entries, so
  log|det| = 0 exactly. RealNVP and Glow apply it in the data -> latent
  direction; in TFP's convention (forward = latent -> data) a multiscale flow
  therefore holds `tfb.Invert(Squeeze(...))`.

  Shapes: forward input `[..., H, W, C]` (any batch shape), output
  `[..., H/f, W/f, f*f*C]`.

  Args:
    image_shape: `(H, W, C)` of the input of `forward`; H and W divisible by f.
    factor: f >= 2.
    validate_args: passed to `tfb.Bijector`.
    name: name of the bijector.

  Raises:
    ValueError: if `factor < 2`, `image_shape` is not 3 positive ints, or H, W
      are not divisible by f; when applied, for an input of another event shape.

  Example:
    >>> Squeeze((4, 4, 1)).forward(tf.zeros([2, 4, 4, 1])).shape
    TensorShape([2, 2, 2, 4])
  """

  def __init__(self, image_shape, factor=2, validate_args=False, name="squeeze"):
    parameters = dict(locals())
    shape, f = tuple(int(s) for s in image_shape), int(factor)
    if len(shape) != 3 or min(shape) < 1 or f < 2 or shape[0] % f or shape[1] % f:
      raise ValueError(f"Squeeze needs image_shape (H, W, C) with H and W divisible by "
                       f"factor >= 2, got image_shape={tuple(image_shape)}, factor={factor}.")
    self.image_shape, self.factor = shape, f
    self.squeezed_shape = (shape[0] // f, shape[1] // f, f * f * shape[2])
    super().__init__(forward_min_event_ndims=3, is_constant_jacobian=True,
                     validate_args=validate_args, parameters=parameters, name=name)

  @classmethod
  def _parameter_properties(cls, dtype):
    return {}

  def _apply(self, x, shape_in, shape_out, fn):
    got = tuple(x.shape[-3:])
    if x.shape.rank is not None and (x.shape.rank < 3 or got != shape_in):
      raise ValueError(f"{self.name} expects inputs [..., {', '.join(map(str, shape_in))}], "
                       f"got shape {tuple(x.shape)}.")
    batch = tf.shape(x)[:-3]
    y = fn(tf.reshape(x, [-1, *shape_in]), self.factor)
    return tf.reshape(y, tf.concat([batch, shape_out], 0))

  def _forward(self, x):
    return self._apply(x, self.image_shape, self.squeezed_shape, tf.nn.space_to_depth)

  def _inverse(self, y):
    return self._apply(y, self.squeezed_shape, self.image_shape, tf.nn.depth_to_space)

  def _forward_log_det_jacobian(self, x):
    return tf.zeros([], dtype=x.dtype)

  def _inverse_log_det_jacobian(self, y):
    return tf.zeros([], dtype=y.dtype)

  def _forward_event_shape(self, input_shape):
    return input_shape[:-3].concatenate(self.squeezed_shape)

  def _inverse_event_shape(self, output_shape):
    return output_shape[:-3].concatenate(self.image_shape)

  def _forward_event_shape_tensor(self, input_shape):
    return tf.concat([input_shape[:-3], self.squeezed_shape], 0)

  def _inverse_event_shape_tensor(self, output_shape):
    return tf.concat([output_shape[:-3], self.image_shape], 0)
