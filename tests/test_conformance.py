"""Every bijector and flow step of tfp_flows through the one conformance helper (tests/conformance.py).

Adding a step means adding one `Case` line below; `test_every_step_has_a_case`
fails for any class exported by `tfp_flows.layers` or `tfp_flows.bijectors`
that has no case and is not listed in `NON_STEPS`.
"""
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows import bijectors as B
from tfp_flows import layers as L
from tfp_flows.bijectors.masked_coupling import checkerboard_mask
from conformance import Case, check_bijector, check_built_once, check_density, check_saving

tfb = tfp.bijectors
F64 = dict(dtype="float64")
C = 2  # context width of the conditional cases
IMAGE = (2, 2, 2)  # event shape of the image cases (tiny: the Jacobian check is costly)
IMG = dict(event_size=8, event_shape=IMAGE)


def _training_batch(step, event_size, seed=1):
  """Runs one training batch through a data-dependent step (ActNorm init, BatchNorm statistics)."""
  x = np.random.default_rng(seed).normal(0.5, 2.0, [64, event_size])
  step.bijector(training=True).inverse(tf.constant(x, tf.float64))
  return step


def _image_batch(step, seed=1):
  """Runs one training batch of `[8, *IMAGE]` images through a data-dependent step (ActNorm)."""
  x = np.random.default_rng(seed).normal(0.5, 2.0, [8, *IMAGE])
  step.bijector(training=True).inverse(tf.constant(x, tf.float64))
  return step


def _image_affine_fn(masked):
  """A fixed elementwise affine map of the masked image, for the bare `MaskedCoupling`."""
  cum = tf.math.cumsum(tf.reduce_sum(masked, axis=-1, keepdims=True), axis=-2)
  return tfb.Chain([tfb.Shift(0.3 * tf.sin(cum + masked)), tfb.Scale(log_scale=0.2 * tf.tanh(cum))])


def _made_params(x):
  """A fixed autoregressive map for the bare `MaskedAutoregressive`: params_d from x_{<d}."""
  cum = tf.math.cumsum(x, axis=-1, exclusive=True)
  return tf.stack([0.3 * tf.sin(cum), 0.2 * tf.tanh(cum)], axis=-1)


def _affine_fn(p):
  return tfb.Chain([tfb.Shift(p[..., 0]), tfb.Scale(log_scale=p[..., 1])])


def _spline_params():
  """Widths, heights (summing to 6) and interior slopes of a 2-D, 4-bin spline, float64."""
  rng = np.random.default_rng(0)
  w, h = rng.uniform(0.2, 1.0, (2, 2, 4))
  return (tf.constant(6 * w / w.sum(-1, keepdims=True)), tf.constant(6 * h / h.sum(-1, keepdims=True)),
          tf.constant(rng.uniform(0.3, 3.0, (2, 3))))


def _stats_fn(x):
  loc = tf.constant([0.5, -1.0], tf.float64)
  return loc, tf.constant([0.3, -0.2], tf.float64)


CASES = [
    Case("affine_coupling", L.AffineCoupling,
         lambda: L.AffineCoupling(2, hidden=(8,), **F64), 2),
    Case("affine_coupling_context", L.AffineCoupling,
         lambda: L.AffineCoupling(3, num_masked=1, hidden=(8, 8), context_size=C, **F64),
         3, C),
    Case("spline_coupling", L.SplineCoupling,
         lambda: L.SplineCoupling(2, num_bins=4, hidden=(8,), **F64), 2),
    Case("maf", L.MaskedAffine, lambda: L.MaskedAffine(2, hidden_units=8, **F64), 2),
    Case("maf_context", L.MaskedAffine,
         lambda: L.MaskedAffine(3, hidden_units=8, context_size=C, **F64), 3, C),
    Case("iaf_context", L.MaskedAffine,
         lambda: L.MaskedAffine(3, inverse=True, hidden_units=8, context_size=C, **F64),
         3, C),
    Case("iaf_sigmoid_context", L.MaskedAffine,
         lambda: L.MaskedAffine(3, inverse=True, hidden_units=8, scale="sigmoid",
                                context_size=C, **F64), 3, C),
    Case("maf_sigmoid", L.MaskedAffine,
         lambda: L.MaskedAffine(2, hidden_units=8, scale="sigmoid", **F64), 2),
    Case("iaf_one_context", L.MaskedAffine,
         lambda: L.MaskedAffine(3, inverse=True, hidden_units=8, scale="one", context_size=C,
                                **F64), 3, C),
    Case("spline_autoregressive_context", L.SplineAutoregressive,
         lambda: L.SplineAutoregressive(2, num_bins=4, hidden_units=8, num_blocks=1,
                                        context_size=C, **F64), 2, C),
    Case("permutation_random", L.Permutation,
         lambda: L.Permutation(3, kind="random", seed=1, **F64), 3),
    Case("permutation_reverse", L.Permutation,
         lambda: L.Permutation(2, kind="reverse", **F64), 2),
    Case("lu_linear", L.LULinear, lambda: L.LULinear(2, **F64), 2),
    Case("householder", L.Householder, lambda: L.Householder(3, **F64), 3),
    Case("actnorm", L.ActNorm, lambda: _training_batch(L.ActNorm(2, **F64), 2), 2),
    Case("actnorm_1d", L.ActNorm, lambda: _training_batch(L.ActNorm(1, **F64), 1), 1),
    Case("batch_norm", L.BatchNorm, lambda: _training_batch(L.BatchNorm(2, **F64), 2), 2),
    Case("flow_context", L.Flow,
         lambda: L.Flow([L.AffineCoupling(2, hidden=(8,), context_size=C, **F64),
                         L.Permutation(2, kind="reverse", **F64),
                         L.MaskedAffine(2, hidden_units=8, context_size=C, **F64),
                         L.ActNorm(2, **F64)], 2, **F64), 2, C),
    Case("planar", L.Planar, lambda: L.Planar(2, **F64), 2),
    Case("planar_context", L.Planar, lambda: L.Planar(3, context_size=C, **F64), 3, C),
    Case("radial", L.Radial, lambda: L.Radial(2, **F64), 2),
    Case("radial_context", L.Radial, lambda: L.Radial(3, context_size=C, **F64), 3, C),
    Case("additive_coupling", L.AdditiveCoupling,
         lambda: L.AdditiveCoupling(2, hidden=(8,), **F64), 2),
    Case("additive_coupling_context", L.AdditiveCoupling,
         lambda: L.AdditiveCoupling(3, hidden=(8,), parity=1, context_size=C, **F64), 3, C),
    Case("scaling", L.Scaling, lambda: L.Scaling(2, **F64), 2),
    Case("planar_bijector", B.Planar,
         lambda: B.Planar(tf.constant([0.5, -1.0], tf.float64),
                          tf.constant([0.8, 0.3], tf.float64), tf.constant(0.2, tf.float64)), 2),
    Case("radial_bijector", B.Radial,
         lambda: B.Radial(tf.constant([0.3, -0.2], tf.float64), tf.constant(0.7, tf.float64),
                          tf.constant(0.5, tf.float64)), 2),
    Case("masked_autoregressive", B.MaskedAutoregressive,
         lambda: B.MaskedAutoregressive(_made_params, _affine_fn, event_size=3), 3),
    Case("data_affine", B.DataAffine, lambda: B.DataAffine(_stats_fn, event_size=2), 2),
    Case("rational_quadratic_spline", B.RationalQuadraticSpline,
         lambda: B.RationalQuadraticSpline(*_spline_params(), range_min=-3.0), 2),
    # Steps on point sets [N, D] = [3, 2], checked on the flattened set.
    Case("transformer_coupling_set", L.TransformerCoupling,
         lambda: L.TransformerCoupling(2, width=8, num_heads=2, num_blocks=1, **F64),
         6, event_shape=(3, 2)),
    Case("transformer_coupling_set_context_positions", L.TransformerCoupling,
         lambda: L.TransformerCoupling(3, num_masked=1, width=8, num_heads=2, num_blocks=1,
                                       context_size=C, num_positions=3, **F64),
         9, C, event_shape=(3, 3)),
    Case("actnorm_set", L.ActNorm, lambda: _training_batch(L.ActNorm(2, **F64), 2), 6,
         event_shape=(3, 2)),
    Case("permutation_set", L.Permutation, lambda: L.Permutation(2, kind="reverse", **F64), 6,
         event_shape=(3, 2)),
    Case("squeeze", B.Squeeze, lambda: B.Squeeze(IMAGE), **IMG),
    Case("masked_coupling", B.MaskedCoupling,
         lambda: B.MaskedCoupling(checkerboard_mask(IMAGE), _image_affine_fn), **IMG),
    Case("conv_affine_coupling_checkerboard", L.ConvAffineCoupling,
         lambda: L.ConvAffineCoupling(IMAGE, filters=4, **F64), **IMG),
    Case("conv_affine_coupling_channel_context", L.ConvAffineCoupling,
         lambda: L.ConvAffineCoupling(IMAGE, mask="channel", parity=1, filters=4,
                                      context_size=C, **F64), context_size=C, **IMG),
    Case("conv_spline_coupling_context", L.ConvSplineCoupling,
         lambda: L.ConvSplineCoupling(IMAGE, num_bins=4, mask="channel", filters=4,
                                      num_blocks=0, context_size=C, **F64),
         context_size=C, **IMG),
    Case("actnorm_channels", L.ActNorm, lambda: _image_batch(L.ActNorm(2, **F64)), **IMG),
    Case("lu_linear_1x1_conv", L.LULinear, lambda: L.LULinear(2, **F64), **IMG),
]

# Exported names that are not flow steps or bijectors.
NON_STEPS = {"layers.Dense", "layers.FlowStep", "layers.check_context", "layers.MLP", "layers.MADE", "layers.ExponentialFamilyPrior",
             "layers.SetTransformer",
             # its inverse needs sets sorted in one coordinate: tests/test_set_steps.py
             "bijectors.ascending_column",
             "layers.chain",
             "layers.WeightNorm", "layers.ResNetBlock", "layers.ResNetEncoder",
             "layers.ResNetDecoder", "layers.SummaryNetwork", "layers.ConvConditioner",
             # surjection layers: tests/test_surjection_conformance.py covers each
             "layers.Abs", "layers.Augment", "layers.ConditionalLocScale", "layers.Max",
             "layers.MaxPool2D", "layers.Slice", "layers.UniformDequantization", "layers.VAE",
             "layers.VariationalDequantization", "layers.ChannelSlice", "layers.MaxPool2DOverlap"}


def test_every_step_has_a_case():
  covered = {case.cls for case in CASES}
  missing = [f"{module.__name__.split('.')[-1]}.{name}"
             for module in (L, B) for name, obj in vars(module).items()
             if callable(obj) and not name.startswith("_")
             and getattr(obj, "__module__", "").startswith("tfp_flows")
             and obj not in covered]
  missing = sorted(set(missing) - NON_STEPS)
  assert not missing, f"no conformance case for {missing}; add one to CASES"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bijector(case):
  check_bijector(case)


@pytest.mark.parametrize("case", [c for c in CASES if hasattr(c.cls, "get_config")],
                         ids=lambda c: c.name)
def test_built_once(case):
  check_built_once(case)


@pytest.mark.parametrize("case", [c for c in CASES if hasattr(c.cls, "get_config")],
                         ids=lambda c: c.name)
def test_saving(case, tmp_path):
  check_saving(case, tmp_path)


@pytest.mark.parametrize("case", [c for c in CASES if c.event_size <= 2],
                         ids=lambda c: c.name)
def test_density(case):
  check_density(case)
