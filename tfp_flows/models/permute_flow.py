"""PermuteFlow (SurVAE Flows, Nielsen et al. 2020, Sec. 5.3): stochastic permutation, then an equivariant flow."""
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.layers.flow import chain
from tfp_flows.models.set_flow import SetFlow, transformer_steps
from tfp_flows.surjections.permutation import StochasticPermutationDistribution

tfd = tfp.distributions


class PermuteFlow(SetFlow):
  """Density of point sets: a uniformly random permutation of the points, then an equivariant flow.

  Generative direction: z ~ N(0, I) `[N, D]`, x = flow(z) through `ActNorm` and
  `num_couplings` `TransformerCoupling` steps without positional encoding (alternating the
  transformed coordinate), then the points shuffled by `StochasticPermutationDistribution`
  (axis -2). Log-likelihood: a one-sample lower bound (the permutation layer is stochastic,
  SurVAE Sec. 4.1); it is tight here, because an i.i.d. base pushed through permutation-
  equivariant steps is exchangeable, so `log p(x | z) - log q(z | x) = 0` is the exact
  contribution for every drawn permutation. `is_exact` still reports False (the layer is a
  bound in general), and the study reports the importance-weighted estimate.

  Shapes: x `[batch, N, D]`; `call` returns `[batch]` nats per set.

  Args:
    set_size: N.
    dim: D >= 2.
    num_couplings: number of `TransformerCoupling` steps.
    width, num_heads, num_blocks, mlp_ratio: of each coupling's `SetTransformer`.
    **kwargs: passed to `keras.Model`.

  Raises:
    ValueError: for N < 1, D < 2, num_couplings < 1 (and see `TransformerCoupling`).

  Example:
    >>> model = PermuteFlow(50, num_couplings=4, width=32)
    >>> model.compile(keras.optimizers.Adam(1e-3)); model.fit(points, batch_size=64)
  """

  def __init__(self, set_size, dim=2, num_couplings=4, width=64, num_heads=4, num_blocks=2,
               mlp_ratio=2, **kwargs):
    super().__init__(set_size, dim, **kwargs)
    if int(num_couplings) < 1 or self.dim < 2:
      raise ValueError(f"need num_couplings >= 1 and dim >= 2, got {num_couplings} and {dim}.")
    self.steps = transformer_steps(self.dim, int(num_couplings), width, num_heads, num_blocks,
                                   mlp_ratio, dtype=self.dtype_policy)
    self.built = True

  def distribution(self, training=None):
    base = tfd.Sample(tfd.Normal(tf.constant(0.0, self.compute_dtype), 1.0),
                      [self.set_size, self.dim])
    inner = tfd.TransformedDistribution(base, chain(self.steps, training=training))
    return StochasticPermutationDistribution(inner, axis=-2)
