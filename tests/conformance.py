"""The one conformance helper every bijector and flow step of tfp_flows goes through.

A `Case` names a class and a factory for a float64 instance: either a
Keras flow-step layer (with `bijector(context)`) or a `tfb.Bijector`.
`check_bijector` checks round trips both ways (with `tf.identity` between
calls so TFP's cache cannot answer), fldj = -ildj at matching points, fldj
against log|det| of the autodiff Jacobian, shapes and dtypes, and that the
gradient of `-log_prob` reaches every trainable weight (steps and bijectors on structured
events, point sets `[N, D]` or images `[H, W, C]` given by `Case.event_shape`, are checked as
bijections of the flattened event through `tfb.Reshape`, see `bijector_of`): eagerly for batch
shapes [], [3] and [2, 3], and inside `tf.function` for [2, 3] (all but
the Jacobian, whose graph is slow to build). `check_built_once` builds
a step's distribution once, outside the tape, as a TFP user does, and checks
that it lists exactly the step's variables and trains every one of them.
`check_saving` reloads a Keras model holding the step from `.keras`;
`check_density` integrates the density of a 1-D or 2-D step on a grid.
"""
import dataclasses
from typing import Any, Callable, Optional

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

tfb, tfd = tfp.bijectors, tfp.distributions

BATCH_SHAPES = ([], [3], [2, 3])  # the last one is also checked inside tf.function
DTYPE = tf.float64


@dataclasses.dataclass(frozen=True)
class Case:
  """One conformance case.

  Attributes:
    name: test id.
    cls: the class under test (for the coverage test).
    make: factory of a float64 instance: a flow-step layer or a `tfb.Bijector`.
    event_size: D.
    context_size: C for conditional steps, else `None`.
    event_shape: the structured event the step acts on, `(N, D)` for point sets or
      `(H, W, C)` for images (then `event_size` is its product), else `None` for vectors.
  """
  name: str
  cls: type
  make: Callable[[], Any]
  event_size: int
  context_size: Optional[int] = None
  event_shape: Optional[tuple] = None


def bijector_of(obj, context=None, event_shape=None):
  """The `tfb.Bijector` of a step layer (inference mode) or the bijector itself.

  With `event_shape` (`(N, D)` point sets, `(H, W, C)` images), the step is seen as a
  bijection of the flattened event `[prod(event_shape)]`; its output event (another shape
  of the same size for a squeeze) is flattened too.
  """
  b = obj if isinstance(obj, tfb.Bijector) else (
      obj.bijector() if context is None else obj.bijector(context))
  if event_shape is None:
    return b
  event_shape = list(event_shape)
  flat = [int(np.prod(event_shape))]
  return tfb.Chain([tfb.Reshape(flat, b.forward_event_shape(event_shape).as_list()), b,
                    tfb.Reshape(event_shape, flat)])


def make(case, seed=0, scale=0.3):
  """A seeded instance of the case with N(0, scale^2) noise added to every trainable weight.

  The noise keeps zero-initialised steps (couplings, MAF, ActNorm) from
  being the identity, where many checks would pass trivially.
  """
  keras.utils.set_random_seed(seed)
  obj = case.make()
  rng = np.random.default_rng(seed)
  for v in getattr(obj, "trainable_variables", []):
    v.assign(v + scale * rng.standard_normal(v.shape).astype(v.dtype))
  return obj


def base_log_prob(bijector, x, event_size):
  """`log_prob(x)` of `N(0, I_D)` pushed through `bijector`."""
  base = tfd.Sample(tfd.Normal(tf.constant(0.0, DTYPE), 1.0), event_size)
  return tfd.TransformedDistribution(base, bijector).log_prob(x)


def _inputs(case, batch_shape, seed):
  rng = np.random.default_rng(seed)
  x = tf.constant(rng.standard_normal(batch_shape + [case.event_size]), DTYPE)
  c = None if case.context_size is None else tf.constant(
      rng.standard_normal(batch_shape + [case.context_size]), DTYPE)
  return x, c


def _evaluate(obj, case, x, context, jacobian=True, gradients=True):
  """All quantities of the checks at `x` `[..., D]`, from a freshly built bijector."""
  out = {}
  if gradients:
    variables = list(getattr(obj, "trainable_variables", []))
    with tf.GradientTape() as tape:  # the bijector is built under the tape, as in training
      loss = -tf.reduce_sum(base_log_prob(bijector_of(obj, context, case.event_shape), x,
                                           case.event_size))
    # -1 marks a weight the gradient does not reach at all.
    out["grads"] = [tf.constant(-1.0, DTYPE) if g is None
                    else tf.reduce_sum(tf.abs(tf.convert_to_tensor(g)))
                    for g in tape.gradient(loss, variables)]
  b = bijector_of(obj, context, case.event_shape)
  if jacobian:
    flat = tf.reshape(x, [-1, case.event_size])
    with tf.GradientTape(persistent=True) as tape:
      tape.watch(flat)
      y_flat = tf.reshape(b.forward(tf.reshape(flat, tf.shape(x))), [-1, case.event_size])
    out["jacobian"] = tf.reshape(
        tape.batch_jacobian(y_flat, flat, experimental_use_pfor=False),
        tf.concat([tf.shape(x), [case.event_size]], 0))
  x_new = tf.identity(x)
  out.update(y=b.forward(x_new), fldj=b.forward_log_det_jacobian(x_new, event_ndims=1))
  y_new = tf.identity(out["y"])
  out.update(x_back=b.inverse(y_new), ildj=b.inverse_log_det_jacobian(y_new, event_ndims=1))
  z = b.inverse(tf.identity(x))
  out["x_again"] = b.forward(tf.identity(z))
  return out


def _assert_conforms(case, out, x, batch_shape, where, names=()):
  d = case.event_size
  msg = f"{case.name} ({where}, batch shape {batch_shape})"
  for key in ("y", "x_back", "x_again"):
    assert out[key].shape == batch_shape + [d], f"{msg}: {key} has shape {out[key].shape}"
    assert out[key].dtype == DTYPE, f"{msg}: {key} has dtype {out[key].dtype}"
  for key in ("fldj", "ildj"):  # constant log-dets may broadcast, as TFP's do
    assert np.broadcast_shapes(out[key].shape, batch_shape) == tuple(batch_shape), (
        f"{msg}: {key} has shape {out[key].shape}")
    assert out[key].dtype == DTYPE, f"{msg}: {key} has dtype {out[key].dtype}"
  np.testing.assert_allclose(out["x_back"], x, atol=1e-9, err_msg=f"{msg}: x -> y -> x")
  np.testing.assert_allclose(out["x_again"], x, atol=1e-9, err_msg=f"{msg}: y -> x -> y")
  np.testing.assert_allclose(out["fldj"], -out["ildj"], atol=1e-9,
                             err_msg=f"{msg}: fldj != -ildj")
  if "jacobian" in out:
    _, logdet = np.linalg.slogdet(out["jacobian"].numpy())
    np.testing.assert_allclose(np.broadcast_to(out["fldj"], batch_shape), logdet,
                               rtol=1e-6, atol=1e-6,
                               err_msg=f"{msg}: fldj != log|det J| (autodiff)")
  for name, g in zip(names, out.get("grads", ())):
    assert g >= 0, f"{msg}: no gradient reaches trainable weight {name}"
    assert g > 0, f"{msg}: zero gradient for trainable weight {name}"


def check_bijector(case, seed=0):
  """Runs the bijector checks of `case` eagerly for each batch shape, and inside
  `tf.function` for the batch shape [2, 3] (one trace, no Jacobian: keeps the suite fast).

  Gradients are checked on the [2, 3] batch only: at a single point a
  ReLU conditioner may have no active unit.
  """
  obj = make(case, seed)
  names = [v.path for v in getattr(obj, "trainable_variables", [])]
  for batch_shape in BATCH_SHAPES:
    x, c = _inputs(case, batch_shape, seed)
    last = batch_shape == BATCH_SHAPES[-1]
    _assert_conforms(case, _evaluate(obj, case, x, c, gradients=last), x, batch_shape,
                     "eager", names)
  graph = tf.function(lambda x, c: _evaluate(obj, case, x, c, jacobian=False),
                      autograph=False)
  _assert_conforms(case, graph(x, c), x, batch_shape, "tf.function", names)


def check_built_once(case, seed=0):
  """A distribution built once from the step lists the step's variables and trains each of them.

  `tfd.TransformedDistribution(base, step.bijector(c))` is built before the
  tape (as `tfp.vi.fit_surrogate_posterior` and hand-written loops do); its
  `trainable_variables` must be the step's trainable weights, each once, and
  the gradient of `-log_prob` must reach each of them, finite and non-zero.
  The base is anisotropic so rotations (Householder) change the density.
  """
  obj = make(case, seed)
  x, c = _inputs(case, [2, 3], seed)
  scale = tf.constant(np.linspace(1.0, 2.0, case.event_size), DTYPE)
  q = tfd.TransformedDistribution(tfd.MultivariateNormalDiag(scale_diag=scale),
                                  bijector_of(obj, c, case.event_shape))
  listed = q.trainable_variables
  expected = [w.value for w in obj.trainable_weights]
  assert len({id(v) for v in listed}) == len(listed), f"{case.name}: a variable is listed twice"
  assert {id(v) for v in listed} == {id(v) for v in expected}, (
      f"{case.name}: the distribution lists {[v.name for v in listed]}, the step has "
      f"{[v.name for v in expected]}")
  with tf.GradientTape() as tape:
    loss = -tf.reduce_sum(q.log_prob(x))
  for v, g in zip(listed, tape.gradient(loss, listed)):
    assert g is not None, f"{case.name}: no gradient reaches {v.name} (bijector built once)"
    g = tf.convert_to_tensor(g)
    assert np.all(np.isfinite(g)), f"{case.name}: non-finite gradient for {v.name}"
    assert float(tf.reduce_sum(tf.abs(g))) > 0, f"{case.name}: zero gradient for {v.name}"


@keras.saving.register_keras_serializable(package="tfp_flows_tests")
class StepModel(keras.Model):
  """A Keras model whose output is `log_prob(x)` of `N(0, I)` through one step."""

  def __init__(self, step, event_size, event_shape=None, **kwargs):
    super().__init__(**kwargs)
    self.step, self.event_size = step, int(event_size)
    self.event_shape = None if event_shape is None else tuple(event_shape)
    self.built = True  # the step owns all the state

  def get_build_config(self):
    return None

  def call(self, x, context=None):
    return base_log_prob(bijector_of(self.step, context, self.event_shape), x, self.event_size)

  def get_config(self):
    return {**super().get_config(), "event_size": self.event_size,
            "event_shape": self.event_shape,
            "step": keras.saving.serialize_keras_object(self.step)}

  @classmethod
  def from_config(cls, config):
    config = dict(config)
    config["step"] = keras.saving.deserialize_keras_object(config["step"])
    return cls(**config)


def check_saving(case, tmp_path, seed=0):
  """A model holding the (randomised) step reloads from `.keras` with the same log_prob."""
  step = make(case, seed)
  model = StepModel(step, case.event_size, case.event_shape, dtype="float64")
  x, c = _inputs(case, [4], seed)
  expected = model(x) if c is None else model(x, c)
  path = str(tmp_path / f"{case.name}.keras")
  model.save(path)
  loaded = keras.saving.load_model(path)
  got = loaded(x) if c is None else loaded(x, c)
  np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12,
                             err_msg=f"{case.name}: log_prob changed after reload")


def check_density(case, seed=0, scale=0.5, points=601, num_samples=20000):
  """exp(log_prob) of `N(0, I)` through the step integrates to 1 (within 1e-2) on a grid, D = 1 or 2.

  The weights get noise of standard deviation `scale` (0.5: far from the
  identity the zero-initialised steps start at). The grid spans the range of
  `num_samples` draws from the step's distribution, widened by half of it on
  each side, so it covers the density wherever the weights moved it.
  """
  obj = make(case, seed, scale)
  c = None
  if case.context_size is not None:
    c = tf.constant(np.random.default_rng(seed).standard_normal([1, case.context_size]),
                    DTYPE)
  dist = tfd.TransformedDistribution(
      tfd.Sample(tfd.Normal(tf.constant(0.0, DTYPE), 1.0), case.event_size),
      bijector_of(obj, c, case.event_shape))
  draws = np.reshape(dist.sample(num_samples, seed=seed), [-1, case.event_size])
  lo, hi = draws.min(0), draws.max(0)
  axes = [np.linspace(l - (h - l) / 2, h + (h - l) / 2, points) for l, h in zip(lo, hi)]
  grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1)
  log_p = dist.log_prob(tf.constant(grid.reshape(-1, case.event_size), DTYPE))
  cell = np.prod([a[1] - a[0] for a in axes])
  mass = float(tf.reduce_sum(tf.exp(log_p))) * cell
  assert abs(mass - 1.0) < 1e-2, f"{case.name}: density integrates to {mass}"


# --- Surjections -------------------------------------------------------------------------------
# One helper for every surjection wrapper of `tfp_flows.surjections` and its Keras owner in
# `tfp_flows.layers.surjections` (tests/test_surjection_conformance.py holds the cases).


@dataclasses.dataclass(frozen=True)
class SurjectionCase:
  """One surjection conformance case (float64).

  Attributes:
    name: test id.
    covers: names exported by `tfp_flows.surjections` / `tfp_flows.layers` that the case
      exercises (for the coverage test).
    inner: factory `dtype -> inner tfd.Distribution` over z.
    x: factory of points `[n, *event_shape]` for the bound, tf.function and gradient checks.
    layer: factory `dtype -> Keras owner` (with `distribution(inner, context)`), or None.
    wrap: factory `inner -> distribution` for cases without a Keras owner.
    context_size: C of the layer's context, or None.
    grid: exact cases: `(half_width, points per axis)` of a grid over x (D = 1 or 2).
    proposal: exact cases of higher D: a factory of the `tfd.Distribution` over x whose
      importance-sampling estimate of the mass must be 1.
    log_likelihood: bound cases: `(x, layer) -> log p(x)`, computed without the wrapper's
      code (closed form, or quadrature over the latent of the layer's own decoder).
    approximate: cases whose contract is "approximate" (neither exact nor a bound, e.g.
      overlapping max-pooling): no mass or bound check, only the contract and the rest.
    scale: std of the noise added to every trainable weight.
  """
  name: str
  covers: tuple
  inner: Callable[[], Any]
  x: Callable[[], Any]
  layer: Optional[Callable[[str], Any]] = None
  wrap: Optional[Callable[[Any], Any]] = None
  context_size: Optional[int] = None
  grid: Optional[tuple] = None
  proposal: Optional[Callable[[], Any]] = None
  log_likelihood: Optional[Callable[[Any], Any]] = None
  approximate: bool = False
  scale: float = 0.3


def _surjection(case, seed, dtype="float64"):
  """`(layer or None, context or None, distribution)` of a case, weights randomised."""
  if case.layer is None:
    return None, None, case.wrap(case.inner(dtype))
  keras.utils.set_random_seed(seed)
  layer = case.layer(dtype)
  rng = np.random.default_rng(seed)
  for v in layer.trainable_variables:
    v.assign(v + case.scale * rng.standard_normal(v.shape).astype(v.dtype))
  context = None if case.context_size is None else tf.constant(
      rng.standard_normal([1, case.context_size]), dtype)
  return layer, context, layer.distribution(case.inner(dtype), context)


def _log_prob(dist, x, seed=(3, 4)):
  """log_prob with a fixed seed (bound layers draw their noise from it)."""
  from tfp_flows.surjections import is_exact
  return dist.log_prob(x) if is_exact(dist) else dist.log_prob(x, seed=seed)


@keras.saving.register_keras_serializable(package="tfp_flows_tests")
class LayerHolder(keras.Model):
  """A Keras model that only holds one surjection layer, for the `.keras` round trip."""

  def __init__(self, layer, **kwargs):
    super().__init__(**kwargs)
    self.layer = layer
    self.built = True

  def get_build_config(self):
    return None

  def call(self, x):
    return x

  def get_config(self):
    return {**super().get_config(), "layer": keras.saving.serialize_keras_object(self.layer)}

  @classmethod
  def from_config(cls, config):
    config = dict(config)
    config["layer"] = keras.saving.deserialize_keras_object(config["layer"])
    return cls(**config)


def _check_mass(case, dist, seed):
  """Exact cases: exp(log_prob) integrates to 1 on a grid, or by importance sampling."""
  from tfp_flows.surjections import is_exact
  assert is_exact(dist), f"{case.name}: an exact case reports a bound"
  if case.grid is not None:
    half_width, points = case.grid
    d = dist.event_shape.num_elements()
    h = 2 * half_width / points  # cell midpoints; axis k shifted by 0.3 h k: no ties x1 == x2
    axes = [-half_width + h * (np.arange(points) + 0.5 + 0.3 * k) for k in range(d)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, d)
    x = tf.constant(grid.reshape([-1] + dist.event_shape.as_list()), DTYPE)
    mass = float(tf.reduce_sum(tf.exp(dist.log_prob(x)))) * h ** d
    assert abs(mass - 1.0) < 1e-2, f"{case.name}: density integrates to {mass} on the grid"
    return
  proposal = case.proposal()
  x = proposal.sample(50_000, seed=(seed, 7))
  w = tf.exp(dist.log_prob(x) - proposal.log_prob(x)).numpy()
  mass, error = w.mean(), w.std() / np.sqrt(len(w))
  assert error < 0.02 and abs(mass - 1.0) < 4 * error + 1e-3, (
      f"{case.name}: importance-sampled mass {mass} +- {error}")


def _check_bound(case, layer, dist, x):
  """Bound cases: the mean one-sample bound lies below the independently computed log p(x),
  and the importance-weighted estimate approaches it."""
  from tfp_flows.metrics.likelihood import log_likelihood
  from tfp_flows.surjections import is_exact
  assert not is_exact(dist), f"{case.name}: a bound case reports an exact log-likelihood"
  exact = np.asarray(case.log_likelihood(x, layer))
  draws = 200
  tiled = tf.repeat(x[None], draws, axis=0)
  bounds = dist.log_prob(tf.reshape(tiled, [-1] + x.shape[1:].as_list()))
  bounds = tf.reshape(bounds, [draws, -1]).numpy()
  mean, error = bounds.mean(0), bounds.std(0) / np.sqrt(draws)
  assert np.all(mean < exact + 2 * error), (
      f"{case.name}: mean one-sample bound {mean} +- {error} is above log p(x) = {exact}")
  gap = exact - bounds  # [draws, points]; > 0 on average for a bound that is not tight
  assert gap.mean() > 3 * gap.std() / np.sqrt(gap.size), (
      f"{case.name}: the bound is not below log p(x) on average: gap {gap.mean()} +- "
      f"{gap.std() / np.sqrt(gap.size)} nats")
  assert np.all(mean > exact - 5.0), f"{case.name}: bound {mean} far below log p(x) {exact}"
  iw = log_likelihood(dist, x, num_samples=2000, chunk_size=1000).numpy()
  np.testing.assert_allclose(iw, exact, atol=0.05,
                             err_msg=f"{case.name}: IW estimate (k = 2000) vs log p(x)")


def check_surjection(case, tmp_path, seed=0):
  """Runs every surjection check of `case`.

  * approximate cases: `likelihood(dist)` is "approximate" (nothing is normalised or bounded);
  * exact cases: `is_exact`, and exp(log_prob) integrates to 1 (grid or importance sampling);
  * bound cases: the one-sample bound is below an independently computed log p(x) (not
    above it at any point, below it on average by more than 3 standard errors),
    and the importance-weighted estimate (k = 2000) matches log p(x);
  * the same log_prob inside `tf.function` (distribution built there) as eagerly, seeded;
  * float64 throughout, float32 finite; the gradient of -log_prob reaches every trainable
    weight of the Keras owner;
  * the Keras owner reloads from `.keras` with the same log_prob.
  """
  layer, context, dist = _surjection(case, seed)
  x = tf.constant(case.x(), DTYPE)
  if case.approximate:
    from tfp_flows.surjections.base import APPROXIMATE, likelihood
    assert likelihood(dist) == APPROXIMATE, (
        f"{case.name}: an approximate case reports {likelihood(dist)!r}")
  elif case.log_likelihood is None:
    _check_mass(case, dist, seed)
  else:
    tf.random.set_seed(seed)
    _check_bound(case, layer, dist, x)

  def evaluate(x):
    return _log_prob(layer.distribution(case.inner("float64"), context) if layer is not None
                     else case.wrap(case.inner("float64")), x)

  eager = evaluate(x)
  assert eager.shape == x.shape[:1] and eager.dtype == DTYPE, f"{case.name}: {eager}"
  assert np.all(np.isfinite(eager)), f"{case.name}: non-finite log_prob {eager}"
  np.testing.assert_allclose(tf.function(evaluate, autograph=False)(x), eager, rtol=1e-9,
                             atol=1e-9, err_msg=f"{case.name}: tf.function != eager")
  if layer is None:
    return
  with tf.GradientTape() as tape:
    loss = -tf.reduce_sum(evaluate(x))
  for v, g in zip(layer.trainable_variables, tape.gradient(loss, layer.trainable_variables)):
    assert g is not None and np.any(tf.convert_to_tensor(g).numpy() != 0), (
        f"{case.name}: no gradient reaches {v.path}")
  _, _, dist32 = _surjection(case, seed, "float32")
  log_p32 = _log_prob(dist32, tf.cast(x, tf.float32))
  assert log_p32.dtype == tf.float32 and np.all(np.isfinite(log_p32)), f"{case.name}: float32"
  path = str(tmp_path / f"{case.name}.keras")
  LayerHolder(layer, dtype="float64").save(path)
  loaded = keras.saving.load_model(path).layer
  np.testing.assert_allclose(_log_prob(loaded.distribution(case.inner("float64"), context), x),
                             eager,
                             rtol=1e-12, atol=1e-12,
                             err_msg=f"{case.name}: log_prob changed after reload")
