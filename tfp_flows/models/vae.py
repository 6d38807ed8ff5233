"""Bernoulli VAEs with flow posteriors, built on the SurVAE `VAE` layer.

A model here is `tfp_flows.layers.VAE` (encoder q(z | x), decoder
p(x | z)) over a standard-normal prior p(z) (Kingma & Welling 2014,
arXiv:1312.6114). The posterior is a diagonal Gaussian pushed through flow
steps that see a context h(x) from the encoder: planar or NICE steps
(Rezende & Mohamed 2015, arXiv:1505.05770, Sec. 4) or IAF steps (Kingma et
al. 2016, arXiv:1606.04934, Sec. 3-4). Subclasses (`IAFVAE`, `DLGM`) choose
the networks and the steps.
"""

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.checks import check_values
from tfp_flows.layers.flow import chain
from tfp_flows.metrics.likelihood import log_likelihood
from tfp_flows.layers.surjections.vae import VAE

tfd = tfp.distributions


@keras.saving.register_keras_serializable(package="tfp_flows")
class FlowPosterior(keras.layers.Layer):
  """q(z | x): `N(loc(x), diag scale(x)^2)` pushed through flow steps conditioned on h(x).

  Args:
    encoder: layer mapping x to `(loc [batch, L], scale [batch, L], h [batch, C])`.
    steps: flow-step layers (`bijector(context=...)`), applied to the Gaussian
      draw last-to-first (`tfp_flows.layers.chain` order); empty for the
      diagonal Gaussian.
    **kwargs: passed to `keras.layers.Layer`.
  """

  def __init__(self, encoder, steps=(), **kwargs):
    super().__init__(**kwargs)
    self.encoder, self.steps = encoder, list(steps)

  def distribution(self, x, context=None):
    """q(z | x), batch `[batch]`, event `[L]` (`context` is unused: h comes from x)."""
    del context
    loc, scale, h = self.encoder(x)
    base = tfd.Independent(tfd.Normal(loc, scale), 1)
    return tfd.TransformedDistribution(base, chain(self.steps, h)) if self.steps else base


@keras.saving.register_keras_serializable(package="tfp_flows")
class BernoulliDecoder(keras.layers.Layer):
  """p(x | z): independent Bernoulli pixels with logits from a network.

  Args:
    network: layer mapping z `[batch, L]` to logits `[batch, *image_shape]`.
    **kwargs: passed to `keras.layers.Layer`.
  """

  def __init__(self, network, **kwargs):
    super().__init__(**kwargs)
    self.network = network

  def distribution(self, z, context=None):
    """p(x | z), batch `[batch]`, event `image_shape`, float samples in {0, 1}."""
    del context
    logits = self.network(z)
    return tfd.Independent(tfd.Bernoulli(logits=logits, dtype=logits.dtype), 3)


class BernoulliVAE(keras.Model):
  """A VAE of binary images, trained by `model.fit` on the (annealed, free-bits) negative ELBO.

  `fit` takes a dataset of images only (`[batch, *image_shape]`, values in
  {0, 1}). Training loss (nats, batch mean):
  `-E[log p(x | z)] + beta_t * max(KL, free_bits)`, with the one-sample KL
  estimate `log q(z | x) - log p(z)` averaged over the batch; `beta_t =
  min(1, 0.01 + t / kl_warmup_steps)` (Rezende & Mohamed 2015, Sec. 6.2) or 1;
  free bits (Kingma et al. 2016, Appendix C.8) are applied to the whole latent
  as one group, because a flow posterior's log-density does not split over
  dimensions. Evaluation (`evaluate`, `val_loss`) is the plain negative ELBO.
  Logged metrics: `loss`, `elbo` and `kl` (nats per image). Posterior and prior
  draws use TensorFlow's global random state (`keras.utils.set_random_seed`).

  Args:
    posterior: a `FlowPosterior`.
    decoder: a `BernoulliDecoder`.
    latent_size: L.
    image_shape: shape of one image.
    free_bits: lambda in nats (0: off).
    kl_warmup_steps: length of the KL annealing in updates (0: off).
    **kwargs: passed to `keras.Model`.

  Raises:
    ValueError: for a negative `free_bits` or `kl_warmup_steps`; in `call`,
      for images of the wrong shape or values outside {0, 1}.
  """

  def __init__(
    self,
    posterior,
    decoder,
    latent_size,
    image_shape=(28, 28, 1),
    free_bits=0.0,
    kl_warmup_steps=0,
    **kwargs,
  ):
    super().__init__(**kwargs)
    if free_bits < 0 or kl_warmup_steps < 0:
      raise ValueError(
        f"free_bits and kl_warmup_steps must be >= 0, got {free_bits} and {kl_warmup_steps}."
      )
    self.latent_size, self.image_shape = int(latent_size), tuple(int(s) for s in image_shape)
    self.free_bits, self.kl_warmup_steps = float(free_bits), int(kl_warmup_steps)
    self.vae = VAE(posterior, decoder, self.image_shape)
    self.elbo_tracker = keras.metrics.Mean(name="elbo")
    self.kl_tracker = keras.metrics.Mean(name="kl")
    self._eval_fns = {}

  def build(self, input_shape=None):
    """Creates every weight by one pass over a blank batch of images."""
    self.distribution().reconstruction_and_kl(tf.zeros((1,) + self.image_shape, self.compute_dtype))
    self.built = True

  @property
  def prior(self):
    """p(z) = N(0, I_L), event `[L]`."""
    return tfd.Independent(tfd.Normal(tf.zeros([self.latent_size], self.compute_dtype), 1.0), 1)

  def distribution(self):
    """The model as a `tfp_flows.surjections.VAEDistribution` over images (`log_prob` = ELBO)."""
    return self.vae.distribution(self.prior)

  def posterior(self, x):
    """q(z | x), batch `[batch]`, event `[L]` (an IAF's `log_prob` inverts it: L passes)."""
    return self.vae.encoder.distribution(self._check(x))

  def _check(self, x):
    x = tf.convert_to_tensor(x, self.compute_dtype)
    if tuple(x.shape[1:]) != self.image_shape:
      raise ValueError(
        f"images have shape {tuple(x.shape)}, expected [batch, "
        f"{', '.join(map(str, self.image_shape))}]."
      )
    check_values(
      type(self).__name__, "x", x, (x == 0) | (x == 1),
      "binary (values 0 or 1) for the Bernoulli likelihood", "binarize the images first",
    )
    return x

  def call(self, x):
    """One-sample ELBO terms `(log p(x | z), log q(z | x) - log p(z))`, each `[batch]` nats."""
    return self.distribution().reconstruction_and_kl(self._check(x))

  def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
    reconstruction, kl = y_pred
    kl_mean = tf.reduce_mean(kl)
    self.elbo_tracker.update_state(reconstruction - kl)
    self.kl_tracker.update_state(kl)
    if not training:
      return -tf.reduce_mean(reconstruction) + kl_mean
    kl_term = tf.maximum(kl_mean, self.free_bits) if self.free_bits else kl_mean
    if self.kl_warmup_steps:
      step = tf.cast(self.optimizer.iterations, kl_term.dtype)
      kl_term *= tf.minimum(1.0, 0.01 + step / self.kl_warmup_steps)
    return -tf.reduce_mean(reconstruction) + kl_term

  def _batched(self, key, fn, x, batch_size):
    """`fn` over `x` in batches, traced once per batch shape; concatenated `[N]` NumPy."""
    if key not in self._eval_fns:
      self._eval_fns[key] = tf.function(fn, reduce_retracing=True)
    x = self._check(x)
    return np.concatenate(
      [
        self._eval_fns[key](x[i : i + batch_size]).numpy()
        for i in range(0, int(x.shape[0]), batch_size)
      ]
    )

  def elbo(self, x, batch_size=500):
    """One-sample ELBO per image, `[N]` NumPy, nats."""
    return self._batched("elbo", lambda xb: self.distribution().log_prob(xb), x, batch_size)

  def log_likelihood(self, x, num_samples=128, chunk_size=16, batch_size=100):
    """Importance-weighted log p(x) per image (Burda et al. 2016), `[N]` NumPy, nats.

    `num_samples` posterior draws per image, `chunk_size` at a time, so memory
    stays that of `chunk_size * batch_size` ELBO evaluations for any k.
    """
    return self._batched(
      ("iw", num_samples, chunk_size),
      lambda xb: log_likelihood(self.distribution(), xb, num_samples, chunk_size),
      x,
      batch_size,
    )

  def sample(self, n, seed=None):
    """Pixel probabilities `[n, *image_shape]` of images decoded from z ~ p(z)."""
    z = self.prior.sample(n, seed=seed)
    return self.vae.decoder.distribution(z).mean()

  def reconstruct(self, x, seed=None):
    """Pixel probabilities `[batch, *image_shape]` decoded from one draw z ~ q(z | x)."""
    z = self.posterior(x).sample(seed=seed)
    return self.vae.decoder.distribution(z).mean()

  def get_config(self):
    return {**super().get_config(), **self._config}
