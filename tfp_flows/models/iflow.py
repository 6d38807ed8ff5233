"""iFlow (Li, Hooi & Lee 2019): an identifiable flow with a conditional exponential-family prior."""
import keras
import tensorflow_probability as tfp

from tfp_flows.layers.exponential_family_prior import ExponentialFamilyPrior
from tfp_flows.layers.flow import chain
from tfp_flows.layers.lu_linear import LULinear
from tfp_flows.layers.permutation import Permutation
from tfp_flows.layers.spline_autoregressive import SplineAutoregressive
from tfp_flows.models.base import AuxiliaryVariableModel

tfd = tfp.distributions


@keras.saving.register_keras_serializable(package="tfp_flows")
class IFlow(AuxiliaryVariableModel):
  """iFlow: x = f(z), z ~ p(z | u), f an RQ-spline autoregressive flow (arXiv:1909.12555, Sec. 3-4).

  The flow, in the density direction (data -> latent), is `num_steps` times
  [random permutation, LU linear, RQ-spline autoregressive step] and a final
  [random permutation, LU linear], as the reference code's NSF
  configuration; with the defaults (MADE hidden 256, 2 residual blocks,
  dropout 0.25, 8 bins on [-3, 3], dim 5) that is about 2.9 M parameters.
  The loss is the exact negative log-likelihood -log p(x | u) in nats,
  `log p(x | u) = log p(f^-1(x) | u) + log|det J_{f^-1}(x)|`.

  TFP direction: `bijector().forward` maps latent z to data x.

  Args:
    dim: data and latent dimension n (iFlow's flow is square).
    n_segments: number of segments (one-hot width of u).
    num_steps: number of spline steps.
    hidden_units, num_blocks, dropout, num_bins, bound: of each spline step.
    positive_eta: softplus on eta as the reference code (True) or xi only (False).
    num_models: optional K, to train K independent models at once.
    seed: seed of the random permutations.
    **kwargs: passed to `keras.Model`.

  Example:
    >>> model = IFlow(dim=2, n_segments=3, num_steps=1, hidden_units=8)
    >>> model.compile(optimizer="adam")
    >>> x = np.random.randn(64, 2).astype("float32"); u = np.eye(3, dtype="float32")[np.arange(64) % 3]
    >>> _ = model.fit({"x": x, "u": u}, batch_size=32, epochs=1, verbose=0)
  """

  def __init__(self, dim, n_segments, num_steps=10, hidden_units=256, num_blocks=2,
               dropout=0.25, num_bins=8, bound=3.0, positive_eta=True, num_models=None,
               seed=0, **kwargs):
    super().__init__(dim, dim, n_segments, num_models=num_models, **kwargs)
    self._config = dict(dim=dim, n_segments=n_segments, num_steps=num_steps,
                        hidden_units=hidden_units, num_blocks=num_blocks, dropout=dropout,
                        num_bins=num_bins, bound=bound, positive_eta=positive_eta,
                        num_models=num_models, seed=seed)
    common = dict(num_models=num_models, dtype=self.dtype_policy)
    linear = lambda i: [Permutation(dim, seed=seed * 1000 + i, **common),
                        LULinear(dim, **common)]
    self.steps = []
    for i in range(num_steps):
      self.steps += linear(i) + [SplineAutoregressive(
          dim, num_bins=num_bins, bound=bound, hidden_units=hidden_units,
          num_blocks=num_blocks, dropout=dropout, **common)]
    self.steps += linear(num_steps)
    self.prior = ExponentialFamilyPrior(dim, positive_eta=positive_eta, **common)
    stack = () if num_models is None else (int(num_models),)
    self.prior.build((None,) + stack + (n_segments,))
    self.built = True

  def bijector(self, training=None):
    """The flow f as a `tfb.Chain` (forward: latent -> data; steps[0] acts first on data).

    `training` switches the steps' dropout (None: the Keras call context).
    """
    return chain(self.steps, training=training)

  def distribution(self, u, training=None):
    """p(x | u) as a `tfd.TransformedDistribution`; batch `[batch]` (or `[batch, K]`), event `[dim]`."""
    return tfd.TransformedDistribution(self.prior.distribution(u), self.bijector(training))

  def per_example_loss(self, x, u, training=None):
    """-log p(x | u) in nats, `[batch]` (or `[batch, K]`); `training` switches dropout."""
    return -self.distribution(u, training).log_prob(x)

  def encode(self, x, u=None):
    """Recovered sources z = f^-1(x), `[N, dim]` (or `[N, K, dim]`); u is not used."""
    return self.bijector().inverse(x)

  def get_config(self):
    return {**super().get_config(), **self._config}
