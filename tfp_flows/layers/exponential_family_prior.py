"""iFlow's conditional prior p(z | u) as a Keras 3 layer."""
import keras
from keras import ops

from tfp_flows.distributions.exponential_family import quadratic_exponential_family
from tfp_flows.layers.mlp import MLP


@keras.saving.register_keras_serializable(package="tfp_flows")
class ExponentialFamilyPrior(keras.layers.Layer):
  """p(z | u) proportional to exp(sum_j -xi_j(u) z_j^2 + eta_j(u) z_j) (iFlow, Li et al. 2019, Sec. 3).

  The natural parameters come from an MLP u -> 30 -> 20 -> 2n with ReLU, as
  in the reference iFlow code; xi is made positive with softplus, and so is
  eta when `positive_eta=True` (the reference code's choice, which restricts
  each factor's mean to be positive; `False` is the corrected version).

  Shapes: u `[..., n_segments]` (or `[..., K, n_segments]` with `num_models=K`);
  the returned distribution has batch shape `[...]` (or `[..., K]`) and event
  shape `[n]`.

  Args:
    latent_dim: n.
    hidden: hidden widths of the MLP, default `(30, 20)`.
    positive_eta: apply softplus to eta too (reference) or not (corrected).
    num_models: optional K.
    **kwargs: passed to `keras.layers.Layer`.
  """

  def __init__(self, latent_dim, hidden=(30, 20), positive_eta=True, num_models=None,
               **kwargs):
    super().__init__(**kwargs)
    self.latent_dim, self.hidden = int(latent_dim), tuple(hidden)
    self.positive_eta, self.num_models = bool(positive_eta), num_models
    self.mlp = MLP(self.hidden, 2 * self.latent_dim, activation="relu",
                   num_models=num_models, dtype=self.dtype_policy)

  def build(self, u_shape):
    self.mlp.build(u_shape)

  def natural_parameters(self, u):
    """Returns `(xi, eta)`, each `[..., n]`, xi > 0."""
    out = self.mlp(u)
    xi, eta = out[..., :self.latent_dim], out[..., self.latent_dim:]
    return ops.softplus(xi), ops.softplus(eta) if self.positive_eta else eta

  def distribution(self, u):
    """The prior p(z | u) as a TFP distribution (exact, in nats)."""
    return quadratic_exponential_family(*self.natural_parameters(u))

  def call(self, u):
    """Returns the natural parameters `(xi, eta)`."""
    return self.natural_parameters(u)

  def get_config(self):
    return {**super().get_config(), "latent_dim": self.latent_dim, "hidden": self.hidden,
            "positive_eta": self.positive_eta, "num_models": self.num_models}
