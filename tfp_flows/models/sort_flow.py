"""SortFlow (SurVAE Flows, Nielsen et al. 2020, Sec. 5.3): sort the points, then a flow over the sequence."""
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows.bijectors.ascending_column import ascending_column
from tfp_flows.layers.flow import chain
from tfp_flows.models.set_flow import SetFlow, transformer_steps
from tfp_flows.surjections.sort import SortDistribution

tfb, tfd = tfp.bijectors, tfp.distributions


class SortFlow(SetFlow):
  """Density of point sets: sort the points by one coordinate, then a flow over the sorted sequence.

  Density direction: the N points are sorted by coordinate `sort_coordinate` (the
  `SortDistribution` surjection with `key`, contribution `-log N!`), the sorted coordinate is
  mapped to its first value and the logs of its gaps (`ascending_column`, the inverse of
  `tfb.Ascending` on that column), then `ActNorm` and `num_couplings` `TransformerCoupling`
  steps whose conditioners see the position of each point in the sorted order (learned
  positional encoding), onto N(0, I) `[N, D]`. The inner distribution is supported on sets
  sorted by that coordinate, so the log-likelihood is exact (Sec. 4.1), given distinct values
  of the coordinate (true almost surely for continuous points; the `spatial_mnist` builder
  guarantees it in float32). A tie makes a gap 0, whose log in `tfb.Ascending`'s inverse is
  -inf and the log_prob NaN: `fit`, `evaluate` and `log_likelihood` reject such arrays.

  Shapes: x `[batch, N, D]` in any order; `call` returns `[batch]` nats per set.

  Args:
    set_size: N >= 2.
    dim: D >= 2.
    sort_coordinate: the coordinate to sort by, in [0, D - 1] (0: x).
    num_couplings: number of `TransformerCoupling` steps.
    width, num_heads, num_blocks, mlp_ratio: of each coupling's `SetTransformer`.
    **kwargs: passed to `keras.Model`.

  Raises:
    ValueError: for N < 2, D < 2, num_couplings < 1, or `sort_coordinate` outside [0, D - 1]
      (naming the value); from `check_points`.
  """

  def __init__(self, set_size, dim=2, sort_coordinate=0, num_couplings=4, width=64, num_heads=4,
               num_blocks=2, mlp_ratio=2, **kwargs):
    super().__init__(set_size, dim, **kwargs)
    if int(num_couplings) < 1 or self.dim < 2 or self.set_size < 2:
      raise ValueError(f"need num_couplings >= 1, dim >= 2 and set_size >= 2, got "
                       f"{num_couplings}, {dim} and {set_size}.")
    if isinstance(sort_coordinate, bool) or not isinstance(sort_coordinate, int) or not (
        0 <= sort_coordinate < self.dim):
      raise ValueError(f"sort_coordinate must be an int in [0, {self.dim - 1}] (a coordinate "
                       f"of the {self.dim}-D points), got {sort_coordinate!r}.")
    self.sort_coordinate = sort_coordinate
    self.steps = transformer_steps(self.dim, int(num_couplings), width, num_heads, num_blocks,
                                   mlp_ratio, num_positions=self.set_size, dtype=self.dtype_policy)
    self.built = True

  def check_points(self, x):
    """`SetFlow.check_points`, then (arrays) that no two points of a set share the sort coordinate.

    Raises:
      ValueError: as `SetFlow.check_points`, or naming the first set with a tied sort coordinate
        and the value.
    """
    super().check_points(x)
    if isinstance(x, tf.data.Dataset):
      return
    keys = np.sort(np.asarray(x)[..., self.sort_coordinate], axis=-1)
    tied = np.argwhere(np.diff(keys, axis=-1) == 0)
    if len(tied):
      m, i = (int(j) for j in tied[0])
      raise ValueError(f"{len(np.unique(tied[:, 0]))} point sets have two points with equal "
                       f"coordinate {self.sort_coordinate} (the sort coordinate), e.g. set {m}: "
                       f"{float(keys[m, i]):.9g} twice; SortFlow needs distinct values "
                       f"(continuous data).")

  def distribution(self, training=None):
    base = tfd.Sample(tfd.Normal(tf.constant(0.0, self.compute_dtype), 1.0),
                      [self.set_size, self.dim])
    sorted_side = ascending_column(self.set_size, self.dim, self.sort_coordinate)
    inner = tfd.TransformedDistribution(
        base, tfb.Chain([sorted_side, chain(self.steps, training=training)]))
    return SortDistribution(inner, key=self.sort_coordinate)
