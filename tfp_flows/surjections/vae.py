"""A VAE as a stochastic SurVAE layer: encoder q(z | x), decoder p(x | z) (SurVAE Sec. 2.2)."""

import keras
import tensorflow as tf

from tfp_flows.surjections.base import SurjectiveDistribution


class VAEDistribution(SurjectiveDistribution):
  """Distribution of x ~ p(x | z) with z ~ inner; `log_prob` is the one-sample ELBO.

  Data -> latent (the SurVAE paper's "forward"): z ~ q(z | x). Latent -> data
  (`sample`): x ~ p(x | z). Likelihood contribution (Nielsen et al. 2020,
  Sec. 2.2, Eq. 5-6): `log p(x | z) - log q(z | x)`, so `log_prob(x)` =
  `log p(z) + log p(x | z) - log q(z | x)`, the one-sample ELBO (Kingma &
  Welling 2014); `is_exact` is False. The encoder may return any
  distribution with `sample` and `log_prob` (a Gaussian, or an IAF
  `tfd.TransformedDistribution` for an IAF-VAE, Kingma et al. 2016).

  Shapes: x `[..., *event_shape]`, z `[..., *inner.event_shape]`.

  Args:
    inner: the prior `tfd.Distribution` over z.
    encoder: callable `x -> tfd.Distribution` over z.
    decoder: callable `z -> tfd.Distribution` over x.
    event_shape: static event shape of x.
    name: name of the distribution.
  """

  layer_is_exact = False

  def __init__(self, inner, encoder, decoder, event_shape, name="vae"):
    parameters = dict(locals())
    self._encoder, self._decoder = encoder, decoder
    super().__init__(inner, event_shape, parameters=parameters, name=name)

  def _posterior_sample(self, x, seed):
    """z ~ q(z | x) and log q(z | x), by `experimental_sample_and_log_prob`.

    For a flow posterior (`tfd.TransformedDistribution`, e.g. IAF) this uses
    the forward log-determinant of the sampling pass and never inverts.
    """
    z, log_q = self._encoder(x).experimental_sample_and_log_prob(seed=seed)
    return tf.cast(z, x.dtype), tf.cast(log_q, x.dtype)

  def _inference(self, x, seed):
    z, log_q = self._posterior_sample(x, seed)
    return z, self._decoder(z).log_prob(x) - log_q

  def reconstruction_and_kl(self, x, seed=None):
    """The two one-sample terms of the ELBO, from one draw z ~ q(z | x).

    `log_prob(x)` (with the same z) equals `reconstruction - kl`.

    Args:
      x: `[batch, *event_shape]` data.
      seed: optional seed of the posterior draw.

    Returns:
      `(log p(x | z), log q(z | x) - log p(z))`, each `[batch]` in nats; the
      second is the one-sample estimate of KL(q(z | x) || p(z)).
    """
    x = tf.convert_to_tensor(x, self.dtype)
    z, log_q = self._posterior_sample(x, seed)
    return self._decoder(z).log_prob(x), log_q - self.inner.log_prob(z)

  def _generate(self, z, seed):
    return tf.cast(self._decoder(z).sample(seed=seed), z.dtype)


@keras.saving.register_keras_serializable(package="tfp_flows")
class VAE(keras.layers.Layer):
  """Keras layer owning a VAE's encoder and decoder layers.

  The encoder and decoder are Keras layers with a method
  `distribution(inputs, context=None) -> tfd.Distribution` (e.g.
  `ConditionalLocScale`); both see the context.

  Args:
    encoder: layer giving q(z | x, context).
    decoder: layer giving p(x | z, context).
    event_shape: event shape of x, e.g. `(784,)`.
    **kwargs: passed to `keras.layers.Layer`.
  """

  def __init__(self, encoder, decoder, event_shape, **kwargs):
    super().__init__(**kwargs)
    if isinstance(encoder, dict):
      encoder = keras.saving.deserialize_keras_object(encoder)
    if isinstance(decoder, dict):
      decoder = keras.saving.deserialize_keras_object(decoder)
    self.encoder, self.decoder = encoder, decoder
    self.x_event_shape = tuple(int(s) for s in event_shape)

  def distribution(self, inner, context=None):
    """`VAEDistribution` with prior `inner`."""
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
      "encoder": keras.saving.serialize_keras_object(self.encoder),
      "decoder": keras.saving.serialize_keras_object(self.decoder),
    }
