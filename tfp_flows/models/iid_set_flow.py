"""The i.i.d. baseline for point sets: every point an independent draw of one D-dimensional flow."""
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.layers.actnorm import ActNorm
from tfp_flows.layers.flow import chain
from tfp_flows.layers.permutation import Permutation
from tfp_flows.layers.spline_coupling import SplineCoupling
from tfp_flows.models.set_flow import SetFlow

tfd = tfp.distributions


class IIDSetFlow(SetFlow):
  """Density of point sets as N i.i.d. points: `p(x) = prod_i q(x_i)`, q one D-dimensional flow.

  q is N(0, I_D) through `ActNorm` and `num_couplings` rational-quadratic `SplineCoupling`
  steps (Durkan et al. 2019) with reverse `Permutation`s between them; the set density is
  `tfd.Sample(q, N)`. Exact log-likelihood. This is what a set model scores without modelling
  dependence between points: the gain of PermuteFlow and SortFlow over it is what
  exchangeable (not just independent) modelling buys.

  Shapes: x `[batch, N, D]`; `call` returns `[batch]` nats per set.

  Args:
    set_size: N.
    dim: D >= 2.
    num_couplings: number of spline couplings.
    hidden: hidden widths of each coupling's MLP.
    num_bins: spline bins.
    bound: spline interval [-bound, bound] (after ActNorm; identity outside).
    **kwargs: passed to `keras.Model`.

  Raises:
    ValueError: for N < 1, D < 2 or num_couplings < 1.
  """

  def __init__(self, set_size, dim=2, num_couplings=4, hidden=(64, 64), num_bins=8, bound=4.0,
               **kwargs):
    super().__init__(set_size, dim, **kwargs)
    if int(num_couplings) < 1 or self.dim < 2:
      raise ValueError(f"need num_couplings >= 1 and dim >= 2, got {num_couplings} and {dim}.")
    self.steps = [ActNorm(self.dim, dtype=self.dtype_policy)]
    for _ in range(int(num_couplings)):
      self.steps += [SplineCoupling(self.dim, num_bins=num_bins, bound=bound, hidden=hidden,
                                    dtype=self.dtype_policy),
                     Permutation(self.dim, kind="reverse", dtype=self.dtype_policy)]
    self.built = True

  def distribution(self, training=None):
    base = tfd.Sample(tfd.Normal(tf.constant(0.0, self.compute_dtype), 1.0), self.dim)
    point = tfd.TransformedDistribution(base, chain(self.steps, training=training))
    return tfd.Sample(point, self.set_size)
