"""Keras layer of a VAE as a stochastic SurVAE layer (SurVAE Sec. 2.2); the math is `tfp_flows.surjections.VAEDistribution`."""
import keras

from tfp_flows.checks import check_int, check_ints
from tfp_flows.layers.step import check_context
from tfp_flows.surjections.vae import VAEDistribution


@keras.saving.register_keras_serializable(package="tfp_flows")
class VAE(keras.layers.Layer):
  """Keras layer owning a VAE's encoder and decoder layers.

  The encoder and decoder are Keras layers with a method
  `distribution(inputs, context=None) -> tfd.Distribution` (e.g.
  `ConditionalLocScale`). Built with `context_size=C`, the layer needs a
  context `[..., C]` and passes it to both; without, it rejects one.

  Args:
    encoder: layer giving q(z | x, context).
    decoder: layer giving p(x | z, context).
    event_shape: event shape of x, e.g. `(784,)`.
    context_size: C, or None.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: if the encoder or decoder has no `distribution` method, or
      `event_shape` is not a sequence of integers.
    ValueError: for an `event_shape` entry or `context_size` < 1.
  """

  def __init__(self, encoder, decoder, event_shape, context_size=None, **kwargs):
    super().__init__(**kwargs)
    if isinstance(encoder, dict):
      encoder = keras.saving.deserialize_keras_object(encoder)
    if isinstance(decoder, dict):
      decoder = keras.saving.deserialize_keras_object(decoder)
    for name, part in (("encoder", encoder), ("decoder", decoder)):
      if not callable(getattr(part, "distribution", None)):
        raise TypeError(f"VAE: {name} must be a layer with a method distribution(inputs, "
                        f"context=None), got {part!r}.")
    self.encoder, self.decoder = encoder, decoder
    self.x_event_shape = check_ints("VAE", "event_shape", event_shape)
    self.context_size = check_int("VAE", "context_size", context_size, optional=True)

  def distribution(self, inner, context=None):
    """`VAEDistribution` with prior `inner`.

    Raises:
      ValueError: for a context that does not fit `context_size` (see `check_context`).
    """
    context = check_context(context, self.context_size, "VAE")
    return VAEDistribution(
      inner,
      lambda x: self.encoder.distribution(x, context=context),
      lambda z: self.decoder.distribution(z, context=context),
      self.x_event_shape,
    )

  def get_config(self):
    return {
      **super().get_config(),
      "event_shape": self.x_event_shape,
      "context_size": self.context_size,
      "encoder": keras.saving.serialize_keras_object(self.encoder),
      "decoder": keras.saving.serialize_keras_object(self.decoder),
    }
