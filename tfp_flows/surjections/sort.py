"""Sort surjection: sorting along the last axis (SurVAE Sec. 4.1, "Sort")."""
import math

import tensorflow as tf

from tfp_flows.surjections.base import SurjectiveDistribution, check, check_vector_event
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

  Shapes: x and z are `[..., D]`.

  Args:
    inner: `tfd.Distribution` over ascending z with event `[D]`.
    validate_args: if True, `sample` checks that the inner samples are sorted.
    name: name of the distribution.

  Raises:
    ValueError: if `inner`'s event is not a vector `[D]`; in `log_prob`, for x
      whose last axis is not D.
    ValueError / InvalidArgumentError: with `validate_args`, when `sample`
      draws an unsorted z.
  """

  def __init__(self, inner, validate_args=False, name="sort_surjection"):
    parameters = dict(locals())
    check_vector_event("SortDistribution", inner, "a vector event [D] to sort")
    super().__init__(inner, inner.event_shape, validate_args=validate_args,
                     parameters=parameters, name=name)

  def _inference(self, x, seed):
    size = int(self.event_shape[-1])
    log_p = tf.fill(tf.shape(x)[:-1], tf.constant(-math.lgamma(size + 1), x.dtype))
    return tf.sort(x, axis=-1), log_p

  def _generate(self, z, seed):
    if self.validate_args:
      check(z[..., 1:] >= z[..., :-1], "Sort: the inner distribution sampled an "
            "unsorted z; end its bijector chain with tfb.Ascending().")
    return random_permutation(z, seed)
