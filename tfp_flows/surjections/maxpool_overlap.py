"""Overlapping max-pooling of `[H, W, C]` images (stride below the pool size): an approximate likelihood.

The reproduction's `MaxPoolingLayerWithOverlap` pools 7x7 MNIST maps to 3x3
with 3x3 windows and stride 2. Windows that share their maximum (it lies in
their overlap) give tied pooled values with positive probability under the
data, which a continuous inner density cannot represent, so
`log p(z) + log p(x | z)` below is neither the log-likelihood nor a bound:
the layer's contract is "approximate" (`surjections.base.APPROXIMATE`).
`benchmarks/maxpool_overlap_mass.py` measures how far its exp(log_prob)
integrates from 1.
"""
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.checks import check_int, check_ints
from tfp_flows.surjections.base import SurjectiveDistribution, check_inner
from tfp_flows.surjections.max import gap_distribution

tfd = tfp.distributions


def pooling_windows(height, width, pool_size, stride):
  """Pixel indices of the k x k windows with stride s over an H x W image.

  Args:
    height: H.
    width: W.
    pool_size: k >= 2.
    stride: s with 1 <= s < k (overlapping windows).

  Returns:
    `(windows, (out_h, out_w))`: windows `[out_h * out_w, k * k]` int array of
    flat pixel indices `row * W + col`, row-major over windows.

  Raises:
    TypeError: if a size is not an integer.
    ValueError: unless 1 <= s < k and the windows tile the image exactly
      ((H - k) and (W - k) divisible by s, so every pixel is in a window).
  """
  h, w = check_int("pooling_windows", "height", height), check_int("pooling_windows", "width", width)
  k = check_int("pooling_windows", "pool_size", pool_size)
  s = check_int("pooling_windows", "stride", stride)
  if not (2 <= k and s < k and h >= k and w >= k and (h - k) % s == 0
          and (w - k) % s == 0):
    raise ValueError(f"overlapping max-pooling needs pool_size k >= 2, stride 1 <= s < k and "
                     f"windows that tile the image ((H - k) and (W - k) divisible by s); got "
                     f"image {h}x{w}, pool_size={pool_size}, stride={stride}.")
  out_h, out_w = (h - k) // s + 1, (w - k) // s + 1
  windows = [[(i * s + a) * w + j * s + b for a in range(k) for b in range(k)]
             for i in range(out_h) for j in range(out_w)]
  return np.asarray(windows, np.int32), (out_h, out_w)


class OverlappingMaxPoolDistribution(SurjectiveDistribution):
  """Distribution of x `[H, W, C]` whose overlapping k x k window maxima (stride s < k) are z ~ inner.

  Data -> latent: z `[out_h, out_w, C]` = the window maxima, deterministic.
  Latent -> data (`sample`): each entry's bound u_j is the smallest maximum
  of the windows containing it; each window's maximum is placed at an entry
  drawn uniformly among its entries with u_j = z_w (where it can be); every
  entry not placed is u_j minus a half-normal (or exponential) gap of the
  channel's scale. Contribution computed in `log_prob`:
  `-sum_w log n_w + sum_{j not placed} log p_gap(u_j - x_j)`, n_w the number
  of such entries of window w, placed entries being those with x_j = u_j.
  Not exact and not a bound (see the module docstring): `likelihood` is
  "approximate".

  Shapes: x `[..., H, W, C]`, z `[..., out_h, out_w, C]`; `scale`
  broadcastable to `[C]`.

  Args:
    inner: `tfd.Distribution` over z with event `[out_h, out_w, C]`.
    image_shape: `(H, W, C)` of x.
    pool_size: k.
    stride: s < k.
    scale: positive gap scales, broadcastable to `[C]`.
    gap: `"half_normal"` or `"exponential"`.
    name: name of the distribution.

  Raises:
    TypeError: if `inner` is not a `tfd.Distribution` or a size is not an integer.
    ValueError: for an `image_shape` that is not `(H, W, C)`, windows that do
      not tile the image (`pooling_windows`), an unknown `gap`, or an inner
      event shape other than `[out_h, out_w, C]`.
  """

  layer_is_exact = False
  layer_is_approximate = True

  def __init__(self, inner, image_shape, pool_size, stride, scale, gap="half_normal",
               name="overlapping_max_pool"):
    parameters = dict(locals())
    check_inner("OverlappingMaxPoolDistribution", inner)
    image_shape = check_ints("OverlappingMaxPoolDistribution", "image_shape", image_shape)
    if len(image_shape) != 3:
      raise ValueError(f"OverlappingMaxPoolDistribution: image_shape must be (H, W, C), got "
                       f"{image_shape}.")
    height, width, channels = image_shape
    self._windows, out_hw = pooling_windows(height, width, pool_size, stride)
    if inner.event_shape.as_list() != [*out_hw, channels]:
      raise ValueError(f"overlapping max-pooling of {tuple(image_shape)} with pool_size "
                       f"{pool_size}, stride {stride} needs an inner event shape "
                       f"{[*out_hw, channels]}, got {inner.event_shape}.")
    gap_distribution(gap, 1.0)
    self._gap, self._scale = gap, tf.convert_to_tensor(scale, inner.dtype)
    self._image_shape, self._pooled_shape = (height, width, channels), (*out_hw, channels)
    # For each pixel, the windows containing it, padded with the index of a +inf dummy window.
    members = [np.flatnonzero((self._windows == p).any(axis=1)) for p in range(height * width)]
    most = max(len(m) for m in members)
    self._pixel_windows = np.asarray(
        [np.pad(m, (0, most - len(m)), constant_values=len(self._windows)) for m in members],
        np.int32)
    super().__init__(inner, self._image_shape, parameters=parameters, name=name)

  def _flat(self, t, shape):
    """`[..., *shape]` -> `[..., prod(shape[:2]), C]` and the batch shape."""
    batch = tf.shape(t)[:-3]
    return tf.reshape(t, tf.concat([batch, [shape[0] * shape[1], shape[2]]], 0)), batch

  def _bounds(self, z):
    """u `[..., P, C]`: per pixel, the smallest maximum of the windows containing it."""
    inf = tf.fill(tf.concat([tf.shape(z)[:-2], [1, tf.shape(z)[-1]]], 0),
                  tf.constant(np.inf, z.dtype))
    padded = tf.concat([z, inf], axis=-2)
    return tf.reduce_min(tf.gather(padded, self._pixel_windows, axis=-2), axis=-2)

  def _candidates(self, z, u):
    """`[..., Nw, k*k, C]`: whether each entry of each window can hold the window's maximum."""
    return tf.equal(tf.gather(u, self._windows, axis=-2), z[..., None, :])

  def _inference(self, x, seed):
    flat, batch = self._flat(x, self._image_shape)
    z = tf.reduce_max(tf.gather(flat, self._windows, axis=-2), axis=-2)
    u = self._bounds(z)
    count = tf.reduce_sum(tf.cast(self._candidates(z, u), x.dtype), axis=-2)
    gaps = gap_distribution(self._gap, self._scale).log_prob(u - flat)
    log_gaps = tf.where(tf.equal(flat, u), tf.zeros([], x.dtype), gaps)
    contribution = (tf.reduce_sum(log_gaps, axis=[-2, -1])
                    - tf.reduce_sum(tf.math.log(count), axis=[-2, -1]))
    return tf.reshape(z, tf.concat([batch, self._pooled_shape], 0)), contribution

  def _generate(self, z, seed):
    index_seed, gap_seed = tfp.random.split_seed(seed, n=2)
    zf, batch = self._flat(z, self._pooled_shape)
    u = self._bounds(zf)
    candidates = self._candidates(zf, u)
    noise = tf.random.stateless_uniform(tf.shape(candidates), index_seed, dtype=z.dtype)
    choice = tf.argmax(tf.where(candidates, noise, -tf.ones([], z.dtype)), axis=-2)
    positions = tf.range(self._windows.shape[1], dtype=choice.dtype)[:, None]
    chosen = tf.cast(tf.equal(positions, choice[..., None, :]), z.dtype)  # [..., Nw, k*k, C]
    to_pixels = tf.one_hot(self._windows, u.shape[-2], dtype=z.dtype)  # [Nw, k*k, P]
    placed = tf.einsum("...wkc,wkp->...pc", chosen, to_pixels) > 0
    gap = gap_distribution(self._gap, tf.broadcast_to(self._scale, tf.shape(u)))
    x = tf.where(placed, u, u - gap.sample(seed=gap_seed))
    return tf.reshape(x, tf.concat([batch, self._image_shape], 0))
