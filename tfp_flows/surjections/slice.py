"""Slice surjection: keep the first part of x, a learned decoder for the rest (SurVAE Sec. 4.1, "Slice").

The Keras layer owning its learned parts is `tfp_flows.layers.Slice`
(`tfp_flows/layers/surjections/slice.py`).
"""
import tensorflow as tf

from tfp_flows.surjections.base import SurjectiveDistribution, check_callable, check_inner, check_int


class SliceDistribution(SurjectiveDistribution):
  """Distribution of x = [z, x2] with z ~ inner and x2 ~ p(x2 | z).

  Data -> latent (the SurVAE paper's "forward"): z = x[..., :d], deterministic.
  Latent -> data (`sample`): x2 ~ decoder(z), x = concat(z, x2). Likelihood
  contribution (Nielsen et al. 2020, Sec. 4.1 "Slice", Eq. 9; multi-scale
  "factor out" layers of RealNVP/Glow are this layer): `log p(x2 | z)`; exact.

  Shapes: x `[..., D]`, z `[..., d]` with d = `inner.event_shape[-1]` < D.

  Args:
    inner: `tfd.Distribution` over z with event `[d]`.
    decoder: callable `z [..., d] -> tfd.Distribution` with event `[D - d]`.
    event_size: D.
    name: name of the distribution.

  Raises:
    TypeError: if `decoder` is not callable or `event_size` not an integer.
    ValueError: if `event_size < 2` or `inner`'s event is not a vector of size d < D;
      in `log_prob`, for x whose last axis is not D.
  """

  def __init__(self, inner, decoder, event_size, name="slice_surjection"):
    parameters = dict(locals())
    check_inner("SliceDistribution", inner)
    event_size = check_int("SliceDistribution", "event_size", event_size, minimum=2)
    check_callable("SliceDistribution", "decoder", decoder)
    if inner.event_shape.rank != 1 or not 0 < inner.event_shape[0] < event_size:
      raise ValueError(f"Slice keeps the first d of D = {event_size} entries and needs "
                       f"an inner event shape [d] with 0 < d < D, got {inner.event_shape}.")
    self._decoder = decoder
    super().__init__(inner, [event_size], parameters=parameters, name=name)

  def _inference(self, x, seed):
    keep = self._inner.event_shape[0]
    z = x[..., :keep]
    return z, self._decoder(z).log_prob(x[..., keep:])

  def _generate(self, z, seed):
    return tf.concat([z, tf.cast(self._decoder(z).sample(seed=seed), z.dtype)], axis=-1)
