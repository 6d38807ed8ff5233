"""iVAE (Khemakhem et al. 2020): an identifiable VAE with a conditionally factorial prior."""
import keras
import numpy as np
from keras import ops

from tfp_flows.layers.mlp import MLP
from tfp_flows.models.base import AuxiliaryVariableModel

LOG_2PI = float(np.log(2 * np.pi))


def _normal_log_prob(x, mean, log_var):
  """Sum over the last axis of log N(x; mean, exp(log_var)), in nats."""
  return -0.5 * ops.sum(LOG_2PI + log_var + ops.square(x - mean) * ops.exp(-log_var), axis=-1)


@keras.saving.register_keras_serializable(package="tfp_flows")
class IVAE(AuxiliaryVariableModel):
  """iVAE: p(x | z) = N(f(z), 0.01 I), p(z | u) = N(mu(u), diag exp(lambda(u))) (arXiv:1907.04809, Sec. 3-4).

  Encoder q(z | x, u) = N(g(x, u), diag exp(v(x, u))); g, v, f, lambda (and
  mu) are MLPs of 3 layers, 50 hidden units, leaky ReLU slope 0.1, as the
  reference code. The loss is the one-sample negative ELBO in nats,
  -(log p(x | z) + log p(z | u) - log q(z | x, u)), z drawn by
  reparameterisation from a seeded Keras generator.

  Args:
    data_dim, latent_dim, n_segments: dimensions of x, z and u.
    hidden_units, num_layers, slope: of every MLP (`num_layers` linear layers).
    decoder_var: fixed observation variance.
    learn_prior_mean: learn mu(u) (the corrected version) or fix it at 0 (the
      reference code's choice).
    num_models: optional K, to train K independent models at once.
    seed: seed of the reparameterisation noise.
    **kwargs: passed to `keras.Model`.
  """

  def __init__(self, data_dim, latent_dim, n_segments, hidden_units=50, num_layers=3,
               slope=0.1, decoder_var=0.01, learn_prior_mean=False, num_models=None,
               seed=0, **kwargs):
    super().__init__(data_dim, latent_dim, n_segments, num_models=num_models, **kwargs)
    self._config = dict(data_dim=data_dim, latent_dim=latent_dim, n_segments=n_segments,
                        hidden_units=hidden_units, num_layers=num_layers, slope=slope,
                        decoder_var=decoder_var, learn_prior_mean=learn_prior_mean,
                        num_models=num_models, seed=seed)
    self.decoder_log_var = float(np.log(decoder_var))
    mlp = lambda units: MLP((hidden_units,) * (num_layers - 1), units, "leaky_relu",
                            slope=slope, num_models=num_models, dtype=self.dtype_policy)
    self.enc_mean, self.enc_log_var = mlp(latent_dim), mlp(latent_dim)
    self.decoder, self.prior_log_var = mlp(data_dim), mlp(latent_dim)
    self.prior_mean = mlp(latent_dim) if learn_prior_mean else None
    self.noise = keras.random.SeedGenerator(seed)
    stack = (None,) + (() if num_models is None else (int(num_models),))
    for net in (self.enc_mean, self.enc_log_var):
      net.build(stack + (data_dim + n_segments,))
    self.decoder.build(stack + (latent_dim,))
    for net in (self.prior_log_var, self.prior_mean):
      if net is not None:
        net.build(stack + (n_segments,))
    self.built = True

  def posterior(self, x, u):
    """Mean and log-variance of q(z | x, u), each `[batch, latent_dim]` (or `[batch, K, latent_dim]`)."""
    xu = ops.concatenate([x, u], axis=-1)
    return self.enc_mean(xu), self.enc_log_var(xu)

  def prior(self, u):
    """Mean and log-variance of p(z | u)."""
    log_var = self.prior_log_var(u)
    mean = ops.zeros_like(log_var) if self.prior_mean is None else self.prior_mean(u)
    return mean, log_var

  def per_example_loss(self, x, u, training=None):
    """One-sample negative ELBO in nats, `[batch]` (or `[batch, K]`)."""
    q_mean, q_log_var = self.posterior(x, u)
    z = q_mean + ops.exp(0.5 * q_log_var) * keras.random.normal(
        ops.shape(q_mean), dtype=q_mean.dtype, seed=self.noise)
    x_mean = self.decoder(z)
    log_px = _normal_log_prob(x, x_mean, ops.full_like(x_mean, self.decoder_log_var))
    log_pz = _normal_log_prob(z, *self.prior(u))
    log_qz = _normal_log_prob(z, q_mean, q_log_var)
    return -(log_px + log_pz - log_qz)

  def encode(self, x, u, sample=False):
    """Recovered sources: the posterior mean (default) or, as the reference code, a sample of q."""
    mean, log_var = self.posterior(x, u)
    if not sample:
      return mean
    return mean + ops.exp(0.5 * log_var) * keras.random.normal(
        ops.shape(mean), dtype=mean.dtype, seed=self.noise)

  def get_config(self):
    return {**super().get_config(), **self._config}
