"""A VAE as a stochastic SurVAE layer: encoder q(z | x), decoder p(x | z) (SurVAE Sec. 2.2).

The Keras layer owning the encoder and decoder is `tfp_flows.layers.VAE`
(`tfp_flows/layers/surjections/vae.py`).
"""

import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.checks import check_callable, check_ints
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

  Raises:
    TypeError: if `encoder` or `decoder` is not callable, or `event_shape` is
      not a sequence of integers.
    ValueError: if an entry of `event_shape` is < 1.
  """

  layer_is_exact = False

  def __init__(self, inner, encoder, decoder, event_shape, name="vae"):
    parameters = dict(locals())
    check_callable("VAEDistribution", "encoder", encoder, "a tfd.Distribution")
    check_callable("VAEDistribution", "decoder", decoder, "a tfd.Distribution")
    event_shape = check_ints("VAEDistribution", "event_shape", event_shape)
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

    With a seed, the draw is the one `log_prob(x, seed=seed)` makes, so
    `reconstruction - kl` equals `log_prob(x, seed=seed)`. Without a seed each
    call (of this method or of `log_prob`) draws a fresh z, so the two agree
    only in expectation.

    Args:
      x: `[batch, *event_shape]` data.
      seed: optional stateless seed of the posterior draw.

    Returns:
      `(log p(x | z), log q(z | x) - log p(z))`, each `[batch]` in nats; the
      second is the one-sample estimate of KL(q(z | x) || p(z)).
    """
    x = tf.convert_to_tensor(x, self.dtype)
    if seed is not None:  # the layer's share of the seed, as in `log_prob`
      seed = tfp.random.split_seed(seed, n=2)[0]
    z, log_q = self._posterior_sample(x, seed)
    return self._decoder(z).log_prob(x), log_q - self.inner.log_prob(z)

  def _generate(self, z, seed):
    return tf.cast(self._decoder(z).sample(seed=seed), z.dtype)
