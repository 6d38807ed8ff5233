"""Sort surjection: sorting along the last axis (SurVAE Sec. 4.1, "Sort")."""
import math

import tensorflow as tf

from tfp_flows.checks import check_values
from tfp_flows.surjections.base import SurjectiveDistribution, check_inner, check_vector_event
from tfp_flows.surjections.permutation import random_permutation


class SortDistribution(SurjectiveDistribution):
  """Distribution of x = a uniformly random permutation of z ~ inner, z sorted.

  Data -> latent (the SurVAE paper's "forward"): z = sort(x) ascending along
  the last axis, deterministic. Latent -> data (`sample`): x = z permuted by
  a uniformly random permutation. Likelihood contribution (Nielsen et al.
  2020, Sec. 4.1, Table 2): `log p(x | z) = -log D!`; the total is exact.

  The inner distribution must put all its mass on ascending vectors (e.g. end
  its bijector chain with `tfb.Ascending()`); otherwise `log_prob` integrates
  to the inner mass of the ascending cone only. The layer has no learned parts.

  Point sets (`key=k`): the event is `[N, D]`, N points of D coordinates, and
  the points are sorted by their coordinate k (SortFlow on SpatialMNIST,
  Sec. 5.3, sorts by the first coordinate); the contribution is `-log N!`,
  exact when no two points share that coordinate (almost surely for
  continuous data). The inner distribution must then be ascending in column
  k over the points, e.g. through `tfp_flows.bijectors.ascending_column`.

  Shapes: x and z are `[..., D]` (`key=None`) or `[..., N, D]` (`key=k`).

  Args:
    inner: `tfd.Distribution` over ascending z with event `[D]`, or `[N, D]`
      ascending in column `key`.
    key: None (sort a vector) or the coordinate k in [0, D - 1] to sort the
      points of a set by.
    validate_args: if True, `sample` checks that the inner samples are sorted.
    name: name of the distribution.

  Raises:
    ValueError: if `key` is not None and the inner event is not `[N, D]`
      or `key` is outside [0, D - 1]; for `key=None`, an inner event that is
      not `[D]`.
    ValueError / InvalidArgumentError: with `validate_args`, when `sample`
      draws an unsorted z.
  """

  def __init__(self, inner, key=None, validate_args=False, name="sort_surjection"):
    parameters = dict(locals())
    check_inner("SortDistribution", inner)
    shape = inner.event_shape
    if key is None:  # sets are sorted by a key coordinate; vectors need a vector event
      check_vector_event("SortDistribution", inner, "a vector event [D] to sort")
    if key is not None and (len(shape) != 2 or isinstance(key, bool) or
                            not isinstance(key, int) or not 0 <= key < shape[-1]):
      raise ValueError(f"key (the sort coordinate) must be an int in [0, D - 1] for an inner "
                       f"event [N, D]; got key={key!r} and inner event shape {shape}.")
    self._key = key
    super().__init__(inner, shape, validate_args=validate_args,
                     parameters=parameters, name=name)

  def _inference(self, x, seed):
    rank = len(self.event_shape)
    size = int(self.event_shape[0])
    log_p = tf.fill(tf.shape(x)[:len(x.shape) - rank],
                    tf.constant(-math.lgamma(size + 1), x.dtype))
    if self._key is None:
      return tf.sort(x, axis=-1), log_p
    order = tf.argsort(x[..., self._key], axis=-1, stable=True)
    return tf.gather(x, order, axis=len(x.shape) - 2, batch_dims=len(x.shape) - 2), log_p

  def _generate(self, z, seed):
    keys = z if self._key is None else z[..., self._key]
    if self.validate_args:
      steps = keys[..., 1:] - keys[..., :-1]
      check_values("SortDistribution.sample", "dz", steps, steps >= 0,
                   ">= 0 (dz = z[..., 1:] - z[..., :-1]: the inner sample z sorted)",
                   "end the inner bijector chain with tfb.Ascending() (sets: "
                   "tfp_flows.bijectors.ascending_column)")
    return random_permutation(z, seed, -1 if self._key is None else -2)
