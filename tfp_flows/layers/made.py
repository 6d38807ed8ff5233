"""MADE: masked autoencoder for distribution estimation, as a Keras 3 layer."""
import keras
import numpy as np
from keras import ops

from tfp_flows.layers.dense import Dense


def made_masks(event_size, hidden_units, num_hidden, params_per_dim):
  """Masks of a MADE with natural input order and cyclic hidden degrees.

  Hidden unit k has degree `k mod (D - 1) + 1`, as in the reference nflows
  code (Durkan et al. 2019); input d has degree d + 1; output (d, p) has
  degree d + 1 and sees only inputs of strictly lower degree.

  Args:
    event_size: D, the number of autoregressive inputs.
    hidden_units: width H of every hidden layer.
    num_hidden: number of hidden-to-hidden masks to return.
    params_per_dim: P, outputs per input dimension.

  Returns:
    `(input_mask [D, H], [hidden_mask [H, H]] * num_hidden, output_mask [H, D*P])`.
  """
  d_in = np.arange(1, event_size + 1)
  d_hid = np.arange(hidden_units) % max(1, event_size - 1) + min(1, event_size - 1)
  d_out = np.repeat(d_in, params_per_dim)
  first = (d_hid[None, :] >= d_in[:, None]).astype("float32")
  hidden = (d_hid[None, :] >= d_hid[:, None]).astype("float32")
  last = (d_out[None, :] > d_hid[:, None]).astype("float32")
  return first, [hidden] * num_hidden, last


@keras.saving.register_keras_serializable(package="tfp_flows")
class MADE(keras.layers.Layer):
  """Masked autoregressive network (Germain et al. 2015), optionally residual and conditional.

  Output `(d, :)` depends only on inputs `x_1 .. x_{d-1}` (and on the
  context), so `params = MADE(x)` parameterises an autoregressive transform.
  With `residual=True` each block is the pre-activation residual block of
  the reference neural-spline-flow code (Durkan et al. 2019, nflows
  `MaskedResidualBlock`): act -> masked linear -> act -> dropout -> masked
  linear initialised near zero, added to the block's input. With
  `residual=False` each block is masked linear -> act -> dropout.

  Shapes: `x` is `[..., D]` (or `[..., K, D]` with `num_models=K`); the
  optional context is `[..., C]` (or `[..., K, C]`) and is seen by every
  hidden unit and, through its own projection, by every output (so the first
  dimension's parameters depend on it too, as TFP's conditional
  `AutoregressiveNetwork` with `conditional_input_layers="all_layers"`); the output is `[..., D, params_per_dim]` (or `[..., K, D, P]`).

  Args:
    event_size: D.
    params_per_dim: P, the number of parameters emitted per dimension.
    hidden_units: width of every hidden layer.
    num_blocks: number of blocks after the first masked layer (a plain
      2-hidden-layer MADE is `num_blocks=1, residual=False`).
    residual: residual blocks (two masked layers each) or plain layers.
    activation: Keras activation for the hidden layers.
    dropout: dropout rate inside blocks (active in training only).
    num_models: optional K for stacked independent models.
    seed: optional integer seed of the dropout masks (default: drawn from Keras' global
      seed, `keras.utils.set_random_seed`).
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    ValueError: if `event_size < 1` or `params_per_dim < 1`; at call time if
      the input width is not `event_size`.

  Example:
    >>> made = MADE(event_size=3, params_per_dim=2, hidden_units=16)
    >>> made(np.zeros([4, 3], "float32")).shape
    (4, 3, 2)
  """

  def __init__(self, event_size, params_per_dim, hidden_units=256, num_blocks=2,
               residual=True, activation="relu", dropout=0.0, num_models=None,
               seed=None, **kwargs):
    super().__init__(**kwargs)
    if event_size < 1 or params_per_dim < 1:
      raise ValueError(f"event_size and params_per_dim must be >= 1, got "
                       f"{event_size} and {params_per_dim}.")
    self.event_size, self.params_per_dim = int(event_size), int(params_per_dim)
    self.hidden_units, self.num_blocks = int(hidden_units), int(num_blocks)
    self.residual, self.dropout_rate = bool(residual), float(dropout)
    self.activation = keras.activations.get(activation)
    self.num_models = num_models
    per_block = 2 if residual else 1
    first, hidden, last = made_masks(event_size, hidden_units,
                                     num_blocks * per_block, params_per_dim)
    dense = dict(num_models=num_models, dtype=self.dtype_policy)
    self.first = Dense(hidden_units, mask=first, **dense)
    self.hidden = [
        Dense(hidden_units, mask=m, **dense,
              kernel_scale=1e-3 if residual and i % 2 == 1 else None)
        for i, m in enumerate(hidden)]
    self.last = Dense(event_size * params_per_dim, mask=last, **dense)
    self.seed = seed
    # Only with dropout, as Keras' `Dropout` does: a `SeedGenerator` draws from Python's
    # `random` when built, which would re-seed every layer initialised after this one.
    self.seed_generator = keras.random.SeedGenerator(seed) if self.dropout_rate > 0 else None
    self.context_proj = None

  def build(self, x_shape, context_shape=None):
    hidden_shape = tuple(x_shape[:-1]) + (self.hidden_units,)
    self.first.build(x_shape)
    for layer in self.hidden:
      layer.build(hidden_shape)
    self.last.build(hidden_shape)
    if context_shape is not None:
      widths = [self.hidden_units] * (1 + self.num_blocks) + [
          self.event_size * self.params_per_dim]
      self.context_proj = [Dense(w, num_models=self.num_models, dtype=self.dtype_policy)
                           for w in widths]
      for layer in self.context_proj:
        layer.build(context_shape)

  def call(self, x, context=None, training=None):
    if x.shape[-1] is not None and x.shape[-1] != self.event_size:
      raise ValueError(f"MADE expects inputs of width {self.event_size}, got "
                       f"shape {tuple(x.shape)}.")
    if (context is None) != (self.context_proj is None):
      raise ValueError("MADE was built " + ("with" if self.context_proj else "without")
                       + " a context; call it the same way.")
    ctx = [0.0] * (2 + self.num_blocks) if context is None else [
        p(context) for p in self.context_proj]
    h = self.first(x) + ctx[0]
    if self.residual:
      for b in range(self.num_blocks):
        t = self.hidden[2 * b](self.activation(h)) + ctx[b + 1]
        t = self.dropout(self.activation(t), training)
        h = h + self.hidden[2 * b + 1](t)
    else:
      h = self.activation(h)
      for b in range(self.num_blocks):
        h = self.dropout(self.activation(self.hidden[b](h) + ctx[b + 1]), training)
    out = self.last(h) + ctx[-1]
    return ops.reshape(out, tuple(ops.shape(out)[:-1]) +
                       (self.event_size, self.params_per_dim))

  def dropout(self, h, training):
    """Inverted dropout at `dropout_rate`, in training only.

    The mask is drawn with `tf.random.stateless_uniform(alg="philox")` from the layer's
    `SeedGenerator`: Keras' `Dropout` (TensorFlow's `stateless_dropout`) made the stacked
    iFlow step several times slower under XLA on a CPU in an ad-hoc trial.
    """
    if not training or self.dropout_rate == 0.0:
      return h
    import tensorflow as tf

    seed = tf.cast(self.seed_generator.next(), tf.int64)
    keep = tf.random.stateless_uniform(tf.shape(h), seed, dtype=h.dtype,
                                       alg="philox") >= self.dropout_rate
    return tf.where(keep, h / (1.0 - self.dropout_rate), tf.zeros_like(h))

  def get_config(self):
    config = super().get_config()
    config.update(event_size=self.event_size, params_per_dim=self.params_per_dim,
                  hidden_units=self.hidden_units, num_blocks=self.num_blocks,
                  residual=self.residual,
                  activation=keras.activations.serialize(self.activation),
                  dropout=self.dropout_rate, num_models=self.num_models, seed=self.seed)
    return config
