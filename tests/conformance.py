"""The one conformance helper every bijector and flow step of tfp_flows goes through.

A `Case` names a class and a factory for a float64 instance: either a
Keras flow-step layer (with `bijector(context)`) or a `tfb.Bijector`.
`check_bijector` checks round trips both ways (with `tf.identity` between
calls so TFP's cache cannot answer), fldj = -ildj at matching points, fldj
against log|det| of the autodiff Jacobian, shapes and dtypes, and that the
gradient of `-log_prob` reaches every trainable weight: eagerly for batch
shapes [], [3] and [2, 3], and inside `tf.function` for [2, 3] (all but
the Jacobian, whose graph is slow to build). `check_saving`
reloads a Keras model holding the step from `.keras`; `check_density`
integrates the density of a 1-D or 2-D step on a grid.
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
    event_shape: the event shape of image steps (e.g. `(4, 4, 2)`, D = its
      product), else `None` for vectors `[D]`.
  """
  name: str
  cls: type
  make: Callable[[], Any]
  event_size: int
  context_size: Optional[int] = None
  event_shape: Optional[tuple] = None


def event_shape_of(case):
  """The event shape of the case as a list (`[D]` for vector steps)."""
  return list(case.event_shape or (case.event_size,))


def bijector_of(obj, context=None):
  """The `tfb.Bijector` of a step layer (inference mode) or the bijector itself."""
  if isinstance(obj, tfb.Bijector):
    return obj
  return obj.bijector() if context is None else obj.bijector(context)


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
  """`log_prob(x)` of `N(0, I)` pushed through `bijector`; `event_size` is D or an event shape."""
  base = tfd.Sample(tfd.Normal(tf.constant(0.0, DTYPE), 1.0), event_size)
  return tfd.TransformedDistribution(base, bijector).log_prob(x)


def _inputs(case, batch_shape, seed):
  rng = np.random.default_rng(seed)
  x = tf.constant(rng.standard_normal(batch_shape + event_shape_of(case)), DTYPE)
  c = None if case.context_size is None else tf.constant(
      rng.standard_normal(batch_shape + [case.context_size]), DTYPE)
  return x, c


def _evaluate(obj, case, x, context, jacobian=True, gradients=True):
  """All quantities of the checks at `x` `[..., D]`, from a freshly built bijector."""
  out = {}
  variables = list(getattr(obj, "trainable_variables", []))
  if gradients and variables:
    with tf.GradientTape() as tape:  # the bijector is built under the tape, as in training
      loss = -tf.reduce_sum(base_log_prob(bijector_of(obj, context), x, event_shape_of(case)))
    # -1 marks a weight the gradient does not reach at all.
    out["grads"] = [tf.constant(-1.0, DTYPE) if g is None
                    else tf.reduce_sum(tf.abs(tf.convert_to_tensor(g)))
                    for g in tape.gradient(loss, variables)]
  b = bijector_of(obj, context)
  event_ndims = len(event_shape_of(case))
  batch = tf.shape(x)[:tf.rank(x) - event_ndims]
  if jacobian:
    flat = tf.reshape(x, [-1, case.event_size])
    with tf.GradientTape(persistent=True) as tape:
      tape.watch(flat)
      y_flat = tf.reshape(b.forward(tf.reshape(flat, tf.shape(x))), [-1, case.event_size])
    out["jacobian"] = tf.reshape(
        tape.batch_jacobian(y_flat, flat, experimental_use_pfor=False),
        tf.concat([batch, [case.event_size] * 2], 0))
  x_new = tf.identity(x)
  out.update(y=b.forward(x_new),
             fldj=b.forward_log_det_jacobian(x_new, event_ndims=event_ndims))
  y_new = tf.identity(out["y"])
  out.update(x_back=b.inverse(y_new),
             ildj=b.inverse_log_det_jacobian(y_new, event_ndims=event_ndims))
  # y -> x -> y from y = f(x), so the check also holds for shape-changing bijectors (squeeze)
  out["y_again"] = b.forward(tf.identity(b.inverse(tf.identity(out["y"]))))
  return out


def _assert_conforms(case, out, x, batch_shape, where, names=()):
  msg = f"{case.name} ({where}, batch shape {batch_shape})"
  assert out["x_back"].shape == batch_shape + event_shape_of(case), (
      f"{msg}: x_back has shape {out['x_back'].shape}")
  for key in ("y", "y_again"):  # y may have another event shape (e.g. a squeeze)
    assert out[key].shape[:len(batch_shape)] == batch_shape, (
        f"{msg}: {key} has shape {out[key].shape}")
  assert out["y_again"].shape == out["y"].shape, f"{msg}: y_again has shape {out['y_again'].shape}"
  for key in ("y", "x_back", "y_again"):
    assert out[key].dtype == DTYPE, f"{msg}: {key} has dtype {out[key].dtype}"
  for key in ("fldj", "ildj"):  # constant log-dets may broadcast, as TFP's do
    assert np.broadcast_shapes(out[key].shape, batch_shape) == tuple(batch_shape), (
        f"{msg}: {key} has shape {out[key].shape}")
    assert out[key].dtype == DTYPE, f"{msg}: {key} has dtype {out[key].dtype}"
  np.testing.assert_allclose(out["x_back"], x, atol=1e-9, err_msg=f"{msg}: x -> y -> x")
  np.testing.assert_allclose(out["y_again"], out["y"], atol=1e-9, err_msg=f"{msg}: y -> x -> y")
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


@keras.saving.register_keras_serializable(package="tfp_flows_tests")
class StepModel(keras.Model):
  """A Keras model whose output is `log_prob(x)` of `N(0, I)` through one step."""

  def __init__(self, step, event_size, **kwargs):
    super().__init__(**kwargs)
    self.step = step
    self.event_size = int(event_size) if np.ndim(event_size) == 0 else list(event_size)
    self.built = True  # the step owns all the state

  def get_build_config(self):
    return None

  def call(self, x, context=None):
    return base_log_prob(bijector_of(self.step, context), x, self.event_size)

  def get_config(self):
    return {**super().get_config(), "event_size": self.event_size,
            "step": keras.saving.serialize_keras_object(self.step)}

  @classmethod
  def from_config(cls, config):
    config = dict(config)
    config["step"] = keras.saving.deserialize_keras_object(config["step"])
    return cls(**config)


def check_saving(case, tmp_path, seed=0):
  """A model holding the (randomised) step reloads from `.keras` with the same log_prob."""
  step = make(case, seed)
  model = StepModel(step, event_shape_of(case), dtype="float64")
  x, c = _inputs(case, [4], seed)
  expected = model(x) if c is None else model(x, c)
  path = str(tmp_path / f"{case.name}.keras")
  model.save(path)
  loaded = keras.saving.load_model(path)
  got = loaded(x) if c is None else loaded(x, c)
  np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12,
                             err_msg=f"{case.name}: log_prob changed after reload")


def check_density(case, seed=0, half_width=12.0, points=481, scale=0.1):
  """exp(log_prob) of `N(0, I)` through the step integrates to 1 (within 1e-2) on a grid, D = 1 or 2.

  The weights get noise of standard deviation `scale` only: with larger
  weights a ReLU conditioner's shifts grow linearly in the input and the
  density's tails leave any affordable grid.
  """
  obj = make(case, seed, scale)
  axis = np.linspace(-half_width, half_width, points)
  grid = np.stack(np.meshgrid(*[axis] * case.event_size, indexing="ij"), -1)
  x = tf.constant(grid.reshape(-1, case.event_size), DTYPE)
  c = None
  if case.context_size is not None:
    c = tf.constant(np.random.default_rng(seed).standard_normal([1, case.context_size]),
                    DTYPE)
  log_p = base_log_prob(bijector_of(obj, c), x, case.event_size)
  cell = (axis[1] - axis[0]) ** case.event_size
  mass = float(tf.reduce_sum(tf.exp(log_p))) * cell
  assert abs(mass - 1.0) < 1e-2, f"{case.name}: density integrates to {mass}"
