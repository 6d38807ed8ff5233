"""Affine coupling over the coordinates of a point set, with a Transformer conditioner over the points."""
import keras
import tensorflow_probability as tfp

from tfp_flows.layers.affine_coupling import affine
from tfp_flows.layers.set_transformer import SetTransformer
from tfp_flows.layers.step import FlowStep

tfb = tfp.bijectors


@keras.saving.register_keras_serializable(package="tfp_flows")
class TransformerCoupling(FlowStep):
  """Set coupling `x[:, m:] = mu + exp(s) * z[:, m:]`, `(mu, s) = Transformer(z[:, :m], c)`.

  Acts on point sets `[N, D]`: every point keeps its first `num_masked` coordinates; the others
  are transformed elementwise by an affine map whose shift and log-scale for point i come from a
  `SetTransformer` over the masked coordinates of all N points (SurVAE Flows, Nielsen et al.
  2020, Sec. 5.3 and App. G: couplings over coordinates with Transformer conditioners for
  SpatialMNIST). `tfb.RealNVP` does the split and the affine part; since the conditioner mixes
  points, the step is a bijection of the whole set only, so the returned bijector needs
  event_ndims >= 2 (it is chained with the identity `tfb.Transpose(perm=[0, 1])`, whose
  minimum event rank is 2 and which keeps static shapes). log|det dx/dz| = sum over points and transformed coordinates of s
  (the Jacobian is block-triangular). The log-scale is soft-clamped to (-`log_scale_bound`,
  `log_scale_bound`) and the conditioner output starts at zero, so the step starts as the
  identity.

  Without positions (`num_positions=None`) the step is permutation-equivariant: permuting the
  points of z permutes those of x, and the log-det is unchanged. With `num_positions=N` the
  conditioner adds a learned positional encoding (for the sorted sequences of SortFlow).

  Shapes: `[..., N, D]`; optional set-wise context `[..., C]`.

  Args:
    event_size: D >= 2 (coordinates per point).
    num_masked: m in [1, D - 1]; default D // 2. Alternate with `Permutation(D, "reverse")`.
    width, num_heads, num_blocks, mlp_ratio: of the `SetTransformer` conditioner.
    context_size: C, or None.
    num_positions: N for a positional encoding, or None (equivariant).
    log_scale_bound: bound of the soft clamp on log-scales.
    validate_args: passed to TFP.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    ValueError: for `num_masked` outside [1, D - 1] (see also `SetTransformer`); when the
      bijector is built, for a context of the wrong width; when applied, for points whose last
      dimension is not D, or a set size other than `num_positions`.
  """

  event_ndims = 2  # point sets [N, D]: its conditioner mixes the points

  def __init__(self, event_size, num_masked=None, width=64, num_heads=4, num_blocks=2,
               mlp_ratio=2, context_size=None, num_positions=None, log_scale_bound=3.0,
               validate_args=False, **kwargs):
    super().__init__(event_size, context_size, **kwargs)
    self.num_masked = self.event_size // 2 if num_masked is None else int(num_masked)
    if not 1 <= self.num_masked < self.event_size:
      raise ValueError(f"num_masked must be in [1, event_size - 1] = [1, "
                       f"{self.event_size - 1}], got {self.num_masked}.")
    self.log_scale_bound, self.validate_args = float(log_scale_bound), bool(validate_args)
    self.conditioner = SetTransformer(
        self.num_masked, 2 * (self.event_size - self.num_masked), width=width,
        num_heads=num_heads, num_blocks=num_blocks, mlp_ratio=mlp_ratio,
        context_size=self.context_size, num_positions=num_positions, dtype=self.dtype_policy)
    self._config = dict(num_masked=self.num_masked, width=width,
                        num_heads=num_heads, num_blocks=num_blocks, mlp_ratio=mlp_ratio,
                        num_positions=num_positions,
                        log_scale_bound=self.log_scale_bound, validate_args=self.validate_args)
    self.built = True

  def make_bijector(self, context, training):
    """The step as a bijector of point sets `[..., N, D]` (forward: latent -> data)."""
    transformed = self.event_size - self.num_masked

    def bijector_fn(x0, units):  # the width was checked by `FlowStep`
      params = self.conditioner(x0, context)
      return affine(params[..., :transformed], params[..., transformed:], self.log_scale_bound)

    coupling = tfb.RealNVP(num_masked=self.num_masked, bijector_fn=bijector_fn,
                           validate_args=self.validate_args)
    whole_set = tfb.Transpose(perm=[0, 1])  # identity; makes event_ndims >= 2 required
    return tfb.Chain([coupling, whole_set], name=self.name)

  def get_config(self):
    return {**super().get_config(), **self._config}
