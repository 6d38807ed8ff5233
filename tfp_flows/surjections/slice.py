"""Slice surjection: keep the first part of x, a learned decoder for the rest (SurVAE Sec. 4.1, "Slice")."""
import keras
import numpy as np
import tensorflow as tf

from tfp_flows.surjections.base import SurjectiveDistribution
from tfp_flows.surjections.conditional import ConditionalLocScale


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
    ValueError: if `inner`'s event is not x's with a last axis d < D.
  """

  def __init__(self, inner, decoder, event_size, name="slice_surjection"):
    parameters = dict(locals())
    shape = tf.TensorShape([int(event_size)] if np.ndim(event_size) == 0 else event_size)
    got = inner.event_shape
    if got.rank != shape.rank or got[:-1] != shape[:-1] or not 0 < got[-1] < shape[-1]:
      raise ValueError(f"Slice keeps the first d of D = {shape[-1]} entries of the last axis "
                       f"of x {shape} and needs an inner event shape {shape[:-1].as_list() + ['d']}"
                       f" with 0 < d < D, got {inner.event_shape}.")
    self._decoder = decoder
    super().__init__(inner, shape, parameters=parameters, name=name)

  def _inference(self, x, seed):
    keep = self._inner.event_shape[-1]
    z = x[..., :keep]
    return z, self._decoder(z).log_prob(x[..., keep:])

  def _generate(self, z, seed):
    return tf.concat([z, tf.cast(self._decoder(z).sample(seed=seed), z.dtype)], axis=-1)


@keras.saving.register_keras_serializable(package="tfp_flows")
class Slice(keras.layers.Layer):
  """Keras layer owning the Gaussian decoder p(x2 | z, context) of a `SliceDistribution`.

  Args:
    event_size: D, the size of x.
    keep: d, how many leading entries are kept as z.
    context_size: C of the context the decoder sees, or None.
    hidden: hidden widths of the decoder MLP.
    activation: decoder activation.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    ValueError: unless 0 < keep < event_size.
  """

  def __init__(self, event_size, keep, context_size=None, hidden=(64,), activation="relu",
               **kwargs):
    super().__init__(**kwargs)
    if not 0 < int(keep) < int(event_size):
      raise ValueError(f"Slice: keep = {keep} must satisfy 0 < keep < event_size = "
                       f"{event_size} (a slice larger than the input).")
    self.event_size, self.keep = int(event_size), int(keep)
    self.context_size, self.hidden, self.activation = context_size, tuple(hidden), activation
    self.decoder = ConditionalLocScale(self.event_size - self.keep, self.keep, context_size,
                                       hidden, activation, dtype=self.dtype_policy)
    self.built = True

  def distribution(self, inner, context=None):
    """`SliceDistribution` on `inner` (event `[keep]`); the decoder also sees `context [..., C]`."""
    return SliceDistribution(
        inner, lambda z: self.decoder.distribution(z, context=context), self.event_size)

  def call(self, x):
    """Data -> latent: returns `x[..., :keep]`."""
    return x[..., :self.keep]

  def get_config(self):
    return {**super().get_config(), "event_size": self.event_size, "keep": self.keep,
            "context_size": self.context_size, "hidden": self.hidden, "activation": self.activation}
