"""Slice surjection: keep the first part of x, a learned decoder for the rest (SurVAE Sec. 4.1, "Slice").

The Keras layer owning its learned parts is `tfp_flows.layers.Slice`
(`tfp_flows/layers/surjections/slice.py`).
"""
import numbers

import tensorflow as tf

from tfp_flows.checks import check_callable, check_int, check_ints
from tfp_flows.surjections.base import SurjectiveDistribution, check_inner


class SliceDistribution(SurjectiveDistribution):
  """Distribution of x = [z, x2] with z ~ inner and x2 ~ p(x2 | z).

  Data -> latent (the SurVAE paper's "forward"): z = x[..., :d], deterministic.
  Latent -> data (`sample`): x2 ~ decoder(z), x = concat(z, x2). Likelihood
  contribution (Nielsen et al. 2020, Sec. 4.1 "Slice", Eq. 9; multi-scale
  "factor out" layers of RealNVP/Glow are this layer): `log p(x2 | z)`; exact.

  Shapes: x `[..., D]`, z `[..., d]` with d = `inner.event_shape[-1]` < D;
  for an event of higher rank (images `[H, W, C]`, the multiscale
  factor-out) the last axis is sliced: z `[..., H, W, d]`.

  Args:
    inner: `tfd.Distribution` over z with event `[d]` (or `[..., d]`).
    decoder: callable `z -> tfd.Distribution` with event `[D - d]` (or `[..., D - d]`).
    event_size: D, or the full event shape `[..., D]` of x.
    name: name of the distribution.

  Raises:
    TypeError: if `inner` is not a `tfd.Distribution`, `decoder` not callable or
      `event_size` not an integer (or a sequence of integers).
    ValueError: if `event_size` (its last axis) is < 2 or `inner`'s event is not
      x's with a last axis d < D; in `log_prob`, for x whose last axis is not D.
  """

  def __init__(self, inner, decoder, event_size, name="slice_surjection"):
    parameters = dict(locals())
    check_inner("SliceDistribution", inner)
    check_callable("SliceDistribution", "decoder", decoder, "a tfd.Distribution")
    if isinstance(event_size, numbers.Integral):
      event_size = [event_size]
    shape = check_ints("SliceDistribution", "event_size", event_size)
    check_int("SliceDistribution", "event_size[-1]", shape[-1], minimum=2)
    shape = tf.TensorShape(shape)
    got = inner.event_shape
    if got.rank != shape.rank or got[:-1] != shape[:-1] or not 0 < got[-1] < shape[-1]:
      wanted = ", ".join(map(str, shape[:-1].as_list() + ["d"]))
      raise ValueError(f"Slice keeps the first d of D = {shape[-1]} entries of the last axis "
                       f"of x {shape} and needs an inner event shape [{wanted}] with "
                       f"0 < d < D, got {inner.event_shape}.")
    self._decoder = decoder
    super().__init__(inner, shape, parameters=parameters, name=name)

  def _inference(self, x, seed):
    keep = self._inner.event_shape[-1]
    z = x[..., :keep]
    return z, self._decoder(z).log_prob(x[..., keep:])

  def _generate(self, z, seed):
    return tf.concat([z, tf.cast(self._decoder(z).sample(seed=seed), z.dtype)], axis=-1)
