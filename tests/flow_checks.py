"""Checks shared by the tests of the elementary flows (`Planar`, `Radial`) and their layers."""
import numpy as np
import pytest
import tensorflow as tf


def autodiff_log_det(bijector, z):
  """log|det J| of `bijector.forward` at each row of `z` `[batch, D]`, from the autodiff Jacobian."""
  z = tf.constant(z)
  with tf.GradientTape() as tape:
    tape.watch(z)
    x = bijector.forward(z)
  return np.linalg.slogdet(tape.batch_jacobian(x, z).numpy())[1]


def check_conditional_layer(layer_class, **param_shapes):
  """A float64 `layer_class(2, context_size=3)` conditioned on 5 contexts.

  Checks: its bijector has batch shape [5]; the hook's bijector (`make_bijector(context,
  None)`, whose parameters the bijector reads at use) is float64 with the parameter shapes
  `param_shapes` (name -> shape); `bijector.forward` undoes the layer's call (through
  `tf.identity`, so TFP's cache cannot answer); no context raises a ValueError naming it.

  Returns:
    The hook's bijector, for checks of its parameters' values.
  """
  layer = layer_class(2, context_size=3, dtype="float64")
  context = tf.constant(np.random.default_rng(4).normal(size=(5, 3)))
  bij = layer.bijector(context)
  inner = layer.make_bijector(context, None)
  assert bij.experimental_batch_shape() == [5]
  assert {k: tuple(getattr(inner, k).shape) for k in param_shapes} == param_shapes
  assert inner.dtype == tf.float64
  x = tf.constant(np.random.default_rng(5).normal(size=(5, 2)))
  np.testing.assert_allclose(bij.forward(tf.identity(layer(x, context=context))), x, atol=1e-10)
  with pytest.raises(ValueError, match="context"):
    layer.bijector()
  return inner
