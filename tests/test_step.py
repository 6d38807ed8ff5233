"""The flow-step protocol (`layers.step.FlowStep`) and its bad-input answers.

Every step's gradients when built once are checked by
`test_conformance.py::test_built_once`; here: the context rules, the chain's
variables, replaced variables, and constructor validation.
"""
import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows import layers as L

tfd = tfp.distributions


def _base(d):
  return tfd.MultivariateNormalDiag(scale_diag=tf.linspace(1.0, 2.0, d))


def test_every_exported_step_is_a_flow_step():
  steps = [obj for obj in vars(L).values() if isinstance(obj, type)
           and issubclass(obj, keras.layers.Layer) and hasattr(obj, "bijector")
           and obj is not L.Flow]
  assert L.FlowStep in steps and L.TransformerCoupling in steps, steps
  assert all(issubclass(obj, L.FlowStep) for obj in steps)
  assert all(obj.call is L.FlowStep.call for obj in steps), "call is written once, in FlowStep"
  assert all(obj.bijector is L.FlowStep.bijector for obj in steps)


def test_a_step_without_a_context_rejects_one():
  for step in (L.Permutation(2), L.ActNorm(2), L.LULinear(2), L.Planar(2), L.Scaling(2)):
    with pytest.raises(ValueError, match=rf"{step.name} was built without a context.*\(4, 3\)"):
      step.bijector(tf.zeros([4, 3]))


def test_chain_lists_the_union_of_variables_each_once():
  planar, maf = L.Planar(2), L.MaskedAffine(2, hidden_units=4)
  steps = [planar, L.Permutation(2, kind="reverse"), maf, planar]  # planar used twice
  q = tfd.TransformedDistribution(_base(2), L.chain(steps))
  listed = [id(v) for v in q.trainable_variables]
  assert len(listed) == len(set(listed))
  expected = {id(w.value) for w in planar.trainable_weights + maf.trainable_weights}
  assert set(listed) == expected


def test_built_once_chain_trains_with_tfp_minimize():
  planar, radial = L.Planar(2), L.Radial(2)
  q = tfd.TransformedDistribution(_base(2), L.chain([planar, radial]))
  x = tf.random.stateless_normal([64, 2], seed=[0, 1]) * 0.5 + 1.0
  before = [w.numpy().copy() for w in planar.trainable_weights + radial.trainable_weights]
  tfp.math.minimize(lambda: -tf.reduce_mean(q.log_prob(x)), num_steps=3,
                    optimizer=tf.optimizers.Adam(0.05))  # no trainable_variables argument
  after = [w.numpy() for w in planar.trainable_weights + radial.trainable_weights]
  assert all(not np.allclose(a, b) for a, b in zip(after, before))


def test_missing_context_in_a_mixed_chain_is_the_clear_error_when_built_once():
  steps = [L.AffineCoupling(2, hidden=(4,), context_size=3), L.Permutation(2)]
  with pytest.raises(ValueError, match=r"needs a context of shape \[\.\.\., 3\]"):
    L.chain(steps)
  bijector = L.chain(steps, tf.zeros([1, 3]))  # with a context, built once, then used twice
  for _ in range(2):
    assert bijector.inverse(tf.ones([1, 2])).shape == [1, 2]


def test_chain_rejects_what_is_not_a_step():
  with pytest.raises(TypeError, match=r"steps\[1\] must be a FlowStep.*Dense"):
    L.chain([L.Permutation(2), keras.layers.Dense(2)])


def test_replaced_variables_are_a_clear_error_naming_the_layer():
  step = L.Scaling(2, name="my_scaling")
  bijector = step.bijector()
  step.log_scale = step.add_weight(name="log_scale", shape=(3,), initializer="zeros")
  with pytest.raises(ValueError, match=r"layer my_scaling were replaced.*\(2,\).*\(3,\)"):
    bijector.forward(tf.zeros([1, 2]))


@pytest.mark.parametrize("make", [lambda: L.Radial(2), lambda: L.LULinear(2),
                                  lambda: L.Planar(2), lambda: L.Householder(2)])
def test_wrong_event_width_at_use_names_the_layer(make):
  step = make()
  bijector = step.bijector()
  for fn in (bijector.forward, bijector.inverse):
    with pytest.raises(ValueError, match=rf"{step.name} expects inputs of shape \[\.\.\., 2\], "
                                         r"got shape \(4, 3\)"):
      fn(tf.zeros([4, 3]))


def test_spline_autoregressive_checks_its_context():
  step = L.SplineAutoregressive(2, num_bins=4, hidden_units=8, num_blocks=1, context_size=3)
  with pytest.raises(ValueError, match=r"expects a context of shape \[\.\.\., 3\], got shape "
                                       r"\(4, 2\)"):
    step.bijector(tf.zeros([4, 2]))
  with pytest.raises(ValueError, match="needs a context"):
    step(tf.zeros([4, 2]))


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(num_bins=0), ValueError,
     r"SplineAutoregressive: num_bins must be an integer >= 1, got 0\."),
    (dict(num_bins=2.5), TypeError,
     r"SplineAutoregressive: num_bins must be an integer >= 1, got 2\.5 of type float"),
    (dict(bound=-1.0), ValueError,
     r"SplineAutoregressive: bound must be a positive finite number, got -1\.0"),
    (dict(bound=float("nan")), ValueError,
     r"SplineAutoregressive: bound must be a positive finite number, got nan"),
    (dict(event_size=0), ValueError,
     r"SplineAutoregressive: event_size must be an integer >= 1, got 0"),
    (dict(context_size=0), ValueError,
     r"SplineAutoregressive: context_size must be an integer >= 1 or None, got 0"),
])
def test_spline_autoregressive_validates_its_arguments(kwargs, error, message):
  with pytest.raises(error, match=message):
    L.SplineAutoregressive(**{"event_size": 2, "hidden_units": 4, **kwargs})


@pytest.mark.parametrize("make, error, message", [
    (lambda: L.Planar(True), TypeError,
     r"Planar: event_size must be an integer >= 1, got True of type bool"),
    (lambda: L.Radial(2, init_scale=0.0), ValueError,
     r"Radial: init_scale must be a positive finite number, got 0\.0"),
    (lambda: L.Permutation(0), ValueError,
     r"Permutation: event_size must be an integer >= 1, got 0"),
    (lambda: L.Permutation(2, num_models=0), ValueError,
     r"Permutation: num_models must be an integer >= 1 or None, got 0"),
    (lambda: L.LULinear("2"), TypeError,
     r"LULinear: event_size must be an integer >= 1, got '2' of type str"),
    (lambda: L.Householder(2, num_reflections=0), ValueError,
     r"Householder: num_reflections must be an integer >= 1 or None, got 0"),
    (lambda: L.Scaling(-1), ValueError, r"Scaling: event_size must be an integer >= 1, got -1"),
    (lambda: L.ActNorm(2, epsilon=-1.0), ValueError,
     r"ActNorm: epsilon must be a positive finite number, got -1\.0"),
    (lambda: L.BatchNorm(2, momentum=1.0), ValueError, r"momentum must be in \[0, 1\), got 1\.0"),
    (lambda: L.AffineCoupling(1), ValueError,
     r"AffineCoupling: event_size must be an integer >= 2, got 1"),
    (lambda: L.AffineCoupling(2, log_scale_bound=0.0), ValueError,
     r"AffineCoupling: log_scale_bound must be a positive finite number, got 0\.0"),
    (lambda: L.AffineCoupling(2, hidden=(0,)), ValueError,
     r"AffineCoupling: hidden\[0\] must be an integer >= 1, got 0"),
    (lambda: L.AdditiveCoupling(2, parity=2), ValueError,
     r"AdditiveCoupling: parity must be 0 or 1, got 2"),
    (lambda: L.SplineCoupling(2, num_bins=0), ValueError,
     r"SplineCoupling: num_bins must be an integer >= 1, got 0"),
    (lambda: L.MaskedAffine(2, scale="tanh"), ValueError, r"scale must be one of"),
    (lambda: L.MaskedAffine(2, context_size=1.5), TypeError,
     r"MaskedAffine: context_size must be an integer >= 1 or None, got 1\.5 of type float"),
    (lambda: L.Flow([], 2), ValueError, r"at least one step"),
    (lambda: L.Flow([L.Permutation(2)], 0), ValueError,
     r"Flow: event_size must be an integer >= 1, got 0"),
])
def test_constructors_validate_their_arguments(make, error, message):
  with pytest.raises(error, match=message):
    make()
