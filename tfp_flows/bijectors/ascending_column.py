"""One coordinate of a point set made ascending over the points: TFP's Transpose, Reshape, Blockwise, Ascending."""
import tensorflow_probability as tfp

tfb = tfp.bijectors


def ascending_column(set_size, dim, column=0):
  """Bijector from R^{N x D} onto the point sets whose coordinate `column` ascends over the points.

  Forward (latent -> data): column `column` of z `[N, D]` goes through `tfb.Ascending`
  (`x_0 = z_0`, `x_i = x_{i-1} + exp(z_i)`), the other columns are unchanged. Used as the data
  side of the inner flow of a `SortDistribution(inner, key=column)` (SortFlow), so that the
  inner distribution puts all its mass on sets sorted by that coordinate and the sort
  surjection's likelihood is exact (Nielsen et al. 2020, Sec. 4.1). Built from TFP parts only:
  `tfb.Transpose` `[N, D] -> [D, N]`, `tfb.Reshape` `[D, N] -> [D * N]`, `tfb.Blockwise` of
  `tfb.Identity` and `tfb.Ascending` blocks, and back. log|det| = sum of z over the column's
  points 1..N-1.

  Shapes: `[..., N, D]`; event_ndims >= 2.

  Args:
    set_size: N >= 2.
    dim: D >= 1.
    column: the ascending coordinate, in [0, D - 1].

  Returns:
    A `tfb.Chain` (forward: latent -> data).

  Raises:
    ValueError: for N < 2, D < 1 or `column` outside [0, D - 1].

  Example:
    >>> ascending_column(50, 2, column=0).forward(tf.zeros([50, 2]))[:, 0]  # 0, 1, 2, ...
  """
  set_size, dim, column = int(set_size), int(dim), int(column)
  if set_size < 2 or dim < 1:
    raise ValueError(f"need set_size >= 2 and dim >= 1, got set_size={set_size}, dim={dim}.")
  if not 0 <= column < dim:
    raise ValueError(f"column must be in [0, {dim - 1}] (a coordinate of {dim}-D points), "
                     f"got {column}.")
  blocks = [(tfb.Identity(), column * set_size), (tfb.Ascending(), set_size),
            (tfb.Identity(), (dim - 1 - column) * set_size)]
  blocks = [(b, size) for b, size in blocks if size]
  blockwise = tfb.Blockwise([b for b, _ in blocks], block_sizes=[size for _, size in blocks])
  transpose = tfb.Transpose(rightmost_transposed_ndims=2)
  flat = tfb.Reshape([dim * set_size], [dim, set_size])
  # Chain applies the last bijector first in `forward`: [N, D] -> [D, N] -> [DN] -> ... -> [N, D].
  return tfb.Chain([tfb.Invert(transpose), tfb.Invert(flat), blockwise, flat, transpose],
                   name="ascending_column")
