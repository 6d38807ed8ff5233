"""Neural posterior estimation: a conditional flow q(theta | x) with a summary network (Keras 3).

NPE (Papamakarios & Murray 2016; Greenberg et al. 2019; as in the SBI
benchmark, Lueckmann et al. 2021) trains q(theta | x) on simulated pairs
(theta ~ prior, x ~ simulator(theta)) by maximum likelihood,
`loss = -mean log q(theta | x)` in nats; with an amortised q, the posterior for
any observation is one network pass away.

Parameterisation: the flow works in an unconstrained, standardised space
`v = (log theta - loc) / scale`, with `loc`, `scale` the prior's mean and
standard deviation of log theta (log-normal priors make v standard normal
under the prior); `theta = exp(loc + scale * v)` (`tfb.Exp`, `tfb.Shift`,
`tfb.Scale`), so `log_prob` is a density over theta itself.

With `product_surjection=True` (the degenerate SIR variant, theta = (lambda1,
lambda2, mu, ...) with only lambda1 * lambda2 identifiable), v is first
rotated by a fixed orthogonal map to r = ((v1 + v2) / sqrt 2, v3, ...,
(v1 - v2) / sqrt 2) and a SurVAE `Slice` inference surjection (Nielsen et al.
2020, Sec. 4.1) keeps all but the last coordinate: the flow models the
identifiable part (the log-product and the rest), and a learned Gaussian
stochastic inverse p((v1 - v2) / sqrt 2 | kept, x) models the
non-identifiable direction explicitly. The density stays exact.
"""
import math

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.checks import check_choice
from tfp_flows.layers import (AffineCoupling, Flow, LULinear, Permutation, Slice, SplineCoupling,
                              SummaryNetwork)

tfb, tfd = tfp.bijectors, tfp.distributions

COUPLINGS = {"affine": AffineCoupling, "spline": SplineCoupling}


def product_rotation(num_params):
  """Orthogonal `[P, P]` M with `v = M r`, r = ((v1 + v2)/sqrt 2, v3, ..., vP, (v1 - v2)/sqrt 2)."""
  m = np.zeros((num_params, num_params))
  h = 1 / math.sqrt(2)
  m[0, 0], m[0, -1], m[1, 0], m[1, -1] = h, h, h, -h
  for k in range(2, num_params):
    m[k, k - 1] = 1.0
  return m


@keras.saving.register_keras_serializable(package="tfp_flows")
class NPE(keras.Model):
  """Conditional flow posterior q(theta | x) with a summary network, trained by `fit`.

  Each of `num_steps` flow steps is a coupling (affine or spline, conditioned
  on the summary), a fixed random permutation and a trainable LU linear map
  (`AffineCoupling`/`SplineCoupling`, `Permutation`, `LULinear`, chained by
  `layers.Flow`). `fit` takes `{"x": x [N, T, K], "theta": theta [N, P]}`;
  the loss is `-mean log q(theta | x)`, nats.

  Args:
    param_loc: `[P]` location of log theta (the prior's mean of log theta).
    param_scale: `[P]` positive scale of log theta.
    length: T, observed series length.
    channels: K, values per time step.
    num_steps: flow steps (30 in the reproduction's configuration).
    coupling: "affine" or "spline".
    hidden: coupling conditioner widths.
    summary: "mlp" or "conv" (see `SummaryNetwork`).
    summary_hidden: MLP summary hidden widths ([200, 200, 200] as the reproduction).
    context_size: summary output width (100 as the reproduction).
    product_surjection: handle theta[0] * theta[1] as the only identifiable
      combination with a `Slice` surjection (needs P >= 3).
    seed: seed of the random permutations.
    **kwargs: passed to `keras.Model`.

  Raises:
    ValueError: for mismatched or non-positive `param_loc`/`param_scale`, an
      unknown coupling, `num_steps < 1`, a flow of fewer than 2 dimensions.
  """

  def __init__(self, param_loc, param_scale, length, channels=2, num_steps=30,
               coupling="affine", hidden=(64, 64), summary="mlp",
               summary_hidden=(200, 200, 200), context_size=100, product_surjection=False,
               seed=0, **kwargs):
    super().__init__(**kwargs)
    loc, scale = np.asarray(param_loc, float), np.asarray(param_scale, float)
    if loc.ndim != 1 or loc.shape != scale.shape or not np.all(scale > 0):
      raise ValueError(f"param_loc {loc.tolist()} and param_scale {scale.tolist()}: expected "
                       "two [P] vectors, scales > 0.")
    check_choice("NPE", "coupling", coupling, tuple(sorted(COUPLINGS)))
    if int(num_steps) < 1:
      raise ValueError(f"num_steps = {num_steps}: expected >= 1.")
    self.num_params = len(loc)
    flow_dim = self.num_params - 1 if product_surjection else self.num_params
    if flow_dim < 2:
      raise ValueError(f"the flow needs >= 2 dimensions, got {flow_dim} (P = {self.num_params}, "
                       f"product_surjection = {product_surjection}).")
    self._config = dict(param_loc=loc.tolist(), param_scale=scale.tolist(), length=length,
                        channels=channels, num_steps=int(num_steps), coupling=coupling,
                        hidden=tuple(hidden), summary=summary,
                        summary_hidden=tuple(summary_hidden), context_size=int(context_size),
                        product_surjection=bool(product_surjection), seed=seed)
    self.product_surjection = bool(product_surjection)
    self.summary = SummaryNetwork(length, channels, kind=summary, hidden=summary_hidden,
                                  units=context_size)
    steps = []
    for k in range(int(num_steps)):
      steps += [COUPLINGS[coupling](flow_dim, hidden=hidden, context_size=int(context_size)),
                Permutation(flow_dim, seed=seed + k), LULinear(flow_dim)]
    self.flow = Flow(steps, flow_dim, context_size=int(context_size))
    bijectors = [tfb.Exp(), tfb.Shift(loc.astype("float32")), tfb.Scale(scale.astype("float32"))]
    if self.product_surjection:
      self.slice = Slice(self.num_params, flow_dim, context_size=int(context_size),
                         hidden=hidden)
      bijectors.append(tfb.ScaleMatvecLinearOperator(tf.linalg.LinearOperatorFullMatrix(
          product_rotation(self.num_params).astype("float32"), is_square=True)))
    self.to_theta = tfb.Chain(bijectors)

  def distribution(self, x, training=None):
    """q(theta | x): a distribution over theta, event `[P]`, batch `[...]` of x `[..., T, K]`."""
    return self._posterior(self.summary(x), training)

  def _posterior(self, context, training=None):
    """q(theta | context) for a summary `context [..., C]`."""
    inner = self.flow.distribution(context, training)
    if self.product_surjection:
      inner = self.slice.distribution(inner, context=context)
    return tfd.TransformedDistribution(inner, self.to_theta)

  def log_prob(self, theta, x):
    """`log q(theta | x)` in nats, `[batch]`, for theta `[batch, P]` and x `[batch, T, K]`."""
    return self.distribution(x).log_prob(theta)

  def sample(self, x, num_samples, seed=None):
    """Posterior draws `[batch, num_samples, P]` for observations x `[batch, T, K]`."""
    context = self.summary(tf.convert_to_tensor(x, tf.float32))  # [B, C]
    batch, n = tf.shape(context)[0], int(num_samples)
    # One flat sample axis (surjection wrappers sample over a flat batch): context [n * B, C].
    tiled = tf.reshape(tf.tile(context[None], [n, 1, 1]), [-1, context.shape[-1]])
    draws = self._posterior(tiled).sample(n * batch, seed=seed)
    return tf.transpose(tf.reshape(draws, [n, batch, self.num_params]), [1, 0, 2])

  def call(self, inputs, training=None):
    """Per-example loss `-log q(theta | x)`, `[batch]`, for `{"x": ..., "theta": ...}`."""
    return -self.distribution(inputs["x"], training).log_prob(inputs["theta"])

  def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
    """The batch mean of `call`'s per-example loss (nats)."""
    return tf.reduce_mean(y_pred)

  def get_config(self):
    return {**super().get_config(), **self._config}
