"""Coupling with a binary mask over an event of any rank (RealNVP, Dinh et al. 2017, Sec. 3.4)."""
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

tfb = tfp.bijectors


def checkerboard_mask(image_shape, parity=0):
  """Boolean `[H, W, C]` mask, True where `(i + j) % 2 == parity` (RealNVP's spatial checkerboard).

  Raises:
    ValueError: if `image_shape` is not `(H, W, C)` with H * W >= 2, or parity not 0 or 1.
  """
  h, w, c = _image_shape(image_shape, parity)
  if h * w < 2:
    raise ValueError(f"a checkerboard mask needs H * W >= 2, got image_shape {image_shape}.")
  i, j = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
  return np.broadcast_to(((i + j) % 2 == parity)[..., None], (h, w, c)).copy()


def channel_mask(image_shape, parity=0):
  """Boolean `[H, W, C]` mask, True on the first `C // 2` channels (parity 0) or the rest (parity 1).

  Raises:
    ValueError: if `image_shape` is not `(H, W, C)` with C >= 2, or parity not 0 or 1.
  """
  h, w, c = _image_shape(image_shape, parity)
  if c < 2:
    raise ValueError(f"a channel mask needs C >= 2 channels, got image_shape {image_shape}.")
  first = np.arange(c) < c // 2
  return np.broadcast_to(first if parity == 0 else ~first, (h, w, c)).copy()


def _image_shape(image_shape, parity):
  shape = tuple(int(s) for s in image_shape)
  if len(shape) != 3 or min(shape) < 1 or parity not in (0, 1):
    raise ValueError(f"need image_shape (H, W, C) of positive ints and parity 0 or 1, got "
                     f"image_shape={tuple(image_shape)}, parity={parity!r}.")
  return shape


class MaskedCoupling(tfb.Bijector):
  """`x = m * z + (1 - m) * T(z; theta(m * z))`, T elementwise, for a fixed binary mask m.

  The entries where `mask` is True pass unchanged and condition the
  elementwise bijector `transform_fn(masked)` (zeros where the mask is
  False) that moves the others; log|det dx/dz| is the sum of T's elementwise
  log-derivatives over the unmasked entries (Dinh et al. 2017, eqs. 7-9). With
  a checkerboard or channel mask on `[H, W, C]` this is RealNVP's image
  coupling; `tfb.RealNVP` covers only splits of the last axis.

  Shapes: event `mask.shape` (rank r), any batch shape; `transform_fn` gets
  `[..., *mask.shape]` and returns a bijector acting elementwise on that shape.

  Args:
    mask: boolean array, the event shape.
    transform_fn: callable `masked -> tfb.Bijector`, elementwise (event ndims 0).
    validate_args: passed to `tfb.Bijector`.
    name: name of the bijector.

  Raises:
    ValueError: if the mask is all True or all False.
  """

  def __init__(self, mask, transform_fn, validate_args=False, name="masked_coupling"):
    parameters = dict(locals())
    mask = np.asarray(mask, bool)
    if mask.all() or not mask.any():
      raise ValueError(f"the mask must have both True and False entries, got {mask.sum()} "
                       f"True of {mask.size}.")
    self._mask, self._transform_fn = mask, transform_fn
    self._axes = list(range(-mask.ndim, 0))
    super().__init__(forward_min_event_ndims=mask.ndim, validate_args=validate_args,
                     parameters=parameters, name=name)

  @classmethod
  def _parameter_properties(cls, dtype):
    return {}

  def _split(self, x):
    """The transform for the masked part of x, and the mask as a tensor."""
    mask = tf.constant(self._mask)
    return self._transform_fn(tf.where(mask, x, tf.zeros([], x.dtype))), mask

  def _forward(self, z):
    transform, mask = self._split(z)
    return tf.where(mask, z, transform.forward(z))

  def _inverse(self, x):
    transform, mask = self._split(x)
    return tf.where(mask, x, transform.inverse(x))

  def _forward_log_det_jacobian(self, z):
    transform, mask = self._split(z)
    fldj = transform.forward_log_det_jacobian(z, event_ndims=0)
    return tf.reduce_sum(tf.where(mask, tf.zeros([], z.dtype), fldj), axis=self._axes)

  def _inverse_log_det_jacobian(self, x):
    transform, mask = self._split(x)
    ildj = transform.inverse_log_det_jacobian(x, event_ndims=0)
    return tf.reduce_sum(tf.where(mask, tf.zeros([], x.dtype), ildj), axis=self._axes)
