"""Non-overlapping k x k max-pooling surjection of `[H, W, C]` images (SurVAE Sec. 4.1, "Max pooling").

The Keras layer owning the learned index logits and gap scales is
`tfp_flows.layers.MaxPool2D` (`tfp_flows/layers/surjections/maxpool.py`).
"""
import tensorflow_probability as tfp

from tfp_flows.checks import check_int, check_ints
from tfp_flows.surjections.base import check_inner
from tfp_flows.surjections.max import MaxDistribution

tfd, tfb = tfp.distributions, tfp.bijectors


def blocks_to_image(height, width, channels, pool_size):
  """Bijector (unit Jacobian) from pooling blocks `[H/k, W/k, C, k*k]` to the image `[H, W, C]`.

  Block entry `(i, j, c, a*k + b)` is pixel `(i*k + a, j*k + b, c)`.
  """
  h, w, k = height // pool_size, width // pool_size, pool_size
  return tfb.Chain([
      tfb.Reshape([height, width, channels], event_shape_in=[h, k, w, k, channels]),
      tfb.Transpose(perm=[0, 3, 1, 4, 2]),
      tfb.Reshape([h, w, channels, k, k], event_shape_in=[h, w, channels, k * k]),
  ])


def check_pooling(image_shape, pool_size, owner="MaxPool2D"):
  """`(H, W, C), k` checked: H and W divisible by k >= 2.

  Raises:
    TypeError: if `image_shape` is not three integers or `pool_size` not an integer.
    ValueError: if an entry is < 1, k < 2, or H or W is not divisible by k.
  """
  shape = check_ints(owner, "input_shape", image_shape)
  k = check_int(owner, "pool_size", pool_size, minimum=2)
  if len(shape) != 3:
    raise ValueError(f"{owner}: input_shape must be (H, W, C), got {tuple(image_shape)}.")
  if shape[0] % k or shape[1] % k:
    raise ValueError(f"{owner}: spatial size {shape[0]}x{shape[1]} of input shape {shape} "
                     f"must be divisible by pool_size {k} >= 2.")
  return shape, k


def max_pool_distribution(inner, logits, scale, image_shape, pool_size, gap="half_normal"):
  """Distribution over images x `[H, W, C]` whose k x k block maxima z `[H/k, W/k, C]` follow `inner`.

  Data -> latent (the SurVAE paper's "forward"): z holds the maximum of each
  non-overlapping k x k block of x. Latent -> data (`sample`): per block, the
  argmax position is drawn from a categorical over the k*k positions, the
  other k*k - 1 entries are the block maximum minus half-normal (or
  exponential) gaps. Likelihood contribution (Nielsen et al. 2020, Sec. 4.1;
  reference `SimpleMaxPoolSurjection2d` with a uniform index):
  `sum_blocks log pi_k + sum_{j != k} log p_gap(z - x_j)`; exact. Built as
  `tfd.TransformedDistribution(MaxDistribution(inner, ...), blocks_to_image(...))`.
  Overlapping pooling (stride < k) is not implemented.

  Args:
    inner: `tfd.Distribution` over z with event `[H/k, W/k, C]`.
    logits: argmax-position logits broadcastable to `[C, k*k]`.
    scale: positive gap scales broadcastable to `[C, k*k]`.
    image_shape: `(H, W, C)`.
    pool_size: k.
    gap: `"half_normal"` or `"exponential"`.

  Returns:
    A `tfd.TransformedDistribution` over `[H, W, C]` (exact).

  Raises:
    ValueError: for an indivisible image shape (see `check_pooling`), or an
      inner event shape other than `[H/k, W/k, C]`.
  """
  check_inner("max_pool_distribution", inner)
  (height, width, channels), k = check_pooling(image_shape, pool_size)
  expected = [height // k, width // k, channels]
  if inner.event_shape.as_list() != expected:
    raise ValueError(f"MaxPool2D of {(height, width, channels)} needs an inner event shape "
                     f"{expected}, got {inner.event_shape}.")
  blocks = MaxDistribution(inner, logits, scale, gap=gap)
  return tfd.TransformedDistribution(blocks, blocks_to_image(height, width, channels, k))
