"""Shared base of the identifiability models (iFlow, iVAE): inputs, loss, checks."""
import keras
import numpy as np
from keras import ops


class AuxiliaryVariableModel(keras.Model):
  """A latent-variable model of data x given a one-hot auxiliary variable u, trained by `fit`.

  Subclasses implement `per_example_loss(x, u, training)` (negative
  log-likelihood or negative ELBO in nats, `[batch]` or `[batch, K]`) and
  `encode(x, u)` (the recovered sources). `fit` takes
  `x={"x": x, "u": u}` with `x` `[N, dim]` and `u` `[N, n_segments]` (with
  `num_models=K`: `[N, K, dim]` and `[N, K, n_segments]`, model k seeing
  column k). The loss is the sum over models of each model's batch mean, so
  stacked models train independently; each model's epoch-mean loss is kept
  for `PerModelReduceLROnPlateau`.

  A stacked model whose loss becomes non-finite is stopped on its own: its
  learning-rate scale in `StackedAdam` drops to 0 and its gradients are
  zeroed, so its weights stay at the last finite update while its siblings
  train on; `nonfinite_models()` tells which stopped. Only when every model
  has stopped is the reported loss non-finite (so one model, K = 1, behaves
  as an ordinary Keras model and `fit`'s NaN handling sees it at once).

  `compile` turns on XLA (`jit_compile=True`) by default: on the paper-size
  iFlow it is measured faster on a CPU (docs/benchmarks.md); pass
  `jit_compile=False` to switch it off.

  Args:
    data_dim: dimension of x.
    latent_dim: dimension of z.
    n_segments: number of values of u (its one-hot width).
    num_models: optional K, to train K independent models at once.
    **kwargs: passed to `keras.Model`.
  """

  def __init__(self, data_dim, latent_dim, n_segments, num_models=None, **kwargs):
    super().__init__(**kwargs)
    for name, value in (("data_dim", data_dim), ("latent_dim", latent_dim),
                        ("n_segments", n_segments)):
      if int(value) < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    if num_models is not None and int(num_models) < 1:
      raise ValueError(f"num_models must be None or >= 1, got {num_models!r}.")
    self.data_dim, self.latent_dim = int(data_dim), int(latent_dim)
    self.n_segments, self.num_models = int(n_segments), num_models
    k = 1 if num_models is None else int(num_models)
    self._loss_sum = self.add_weight(name="model_loss_sum", shape=(k,), trainable=False,
                                     initializer="zeros")
    self._loss_count = self.add_weight(name="model_loss_count", shape=(), trainable=False,
                                       initializer="zeros")
    self._alive = self.add_weight(name="model_alive", shape=(k,), trainable=False,
                                  initializer="ones")

  def compile(self, *args, jit_compile=True, **kwargs):
    """`keras.Model.compile` with XLA on by default (`jit_compile=False` turns it off)."""
    super().compile(*args, jit_compile=jit_compile, **kwargs)

  def nonfinite_models(self):
    """`[K]` bool NumPy: which stacked models stopped because their loss became non-finite."""
    return ops.convert_to_numpy(self._alive) == 0

  def check_inputs(self, x, u):
    """Validates data before training: finite x, widths, u one-hot over `n_segments`.

    Args:
      x: `[N, data_dim]` (or `[N, K, data_dim]`) array.
      u: `[N, n_segments]` (or `[N, K, n_segments]`) array.

    Raises:
      ValueError: naming the offending value and what was expected.
    """
    if x is None or u is None:
      raise ValueError(f"expected data {{'x': x, 'u': u}}, got x={type(x).__name__} and "
                       f"u={type(u).__name__}.")
    x, u = np.asarray(x), np.asarray(u)
    stack = () if self.num_models is None else (int(self.num_models),)
    expected = ", ".join(map(str, stack + (self.data_dim,)))
    if x.ndim != 2 + len(stack) or x.shape[1:] != stack + (self.data_dim,):
      hint = (f" (a model with num_models={self.num_models} takes each model's data "
              "stacked on axis 1)" if stack else "")
      raise ValueError(f"x has shape {x.shape}, expected [N, {expected}]{hint}.")
    if len(x) == 0:
      raise ValueError(f"x is empty (shape {x.shape}); expected at least one example.")
    if len(u) != len(x):
      raise ValueError(f"x and u have different batch sizes: {len(x)} and {len(u)}.")
    if u.shape != x.shape[:-1] + (self.n_segments,):
      raise ValueError(f"u has shape {u.shape}, expected {x.shape[:-1] + (self.n_segments,)} "
                       f"(one-hot over n_segments={self.n_segments}).")
    bad = ~np.isfinite(x)
    if bad.any():
      idx = tuple(int(i) for i in np.argwhere(bad)[0])
      raise ValueError(f"x has {int(bad.sum())} non-finite values, e.g. x{list(idx)} = {x[idx]}.")
    onehot = np.all((u == 0) | (u == 1), axis=-1) & (u.sum(axis=-1) == 1)
    if not onehot.all():
      idx = tuple(int(i) for i in np.argwhere(~onehot)[0])
      raise ValueError(f"u is not one-hot over {self.n_segments} segments: u{list(idx)} = "
                       f"{u[idx].tolist()}.")

  def check_batch(self, batch):
    """In-graph check of one `{"x", "u"}` batch of a `tf.data` pipeline (what `fit` maps over it).

    Raises:
      tf.errors.InvalidArgumentError: for non-finite x or a u that is not one-hot, when
        the batch is drawn (in the input pipeline, before the training step).
      ValueError: for static widths that do not match, while the pipeline is built.
    """
    import tensorflow as tf

    if not isinstance(batch, dict) or set(batch) != {"x", "u"}:
      raise ValueError(f"the dataset must yield dicts with keys 'x' and 'u', got {batch!r}.")
    x, u = batch["x"], batch["u"]
    for name, value, width in (("x", x, self.data_dim), ("u", u, self.n_segments)):
      if value.shape[-1] is not None and value.shape[-1] != width:
        raise ValueError(f"{name} has width {value.shape[-1]} in the dataset, expected {width}.")
    x = tf.debugging.assert_all_finite(x, "x has non-finite values (NaN or inf)")
    onehot = tf.reduce_all(((u == 0) | (u == 1)) & (tf.reduce_sum(u, -1, keepdims=True) == 1))
    with tf.control_dependencies([tf.debugging.Assert(
        onehot, [f"u is not one-hot over n_segments={self.n_segments}"])]):
      return {"x": x, "u": tf.identity(u)}

  def fit(self, x=None, y=None, *args, **kwargs):
    """`keras.Model.fit` on `{"x": x, "u": u}` (arrays or a `tf.data.Dataset` of such batches).

    Arrays are checked by `check_inputs` before training, a dataset batch by batch
    by `check_batch`, so bad data is an error, not a NaN loss.

    Raises:
      TypeError: if `x` is neither a dict nor a `tf.data.Dataset`.
      ValueError: from `check_inputs`.
    """
    import tensorflow as tf

    if isinstance(x, tf.data.Dataset):
      x = x.map(self.check_batch)
    elif isinstance(x, dict):
      self.check_inputs(x.get("x"), x.get("u"))
    else:
      raise TypeError(f"x must be a dict {{'x': ..., 'u': ...}} or a tf.data.Dataset of such "
                      f"dicts, got {type(x).__name__}.")
    return super().fit(x, y, *args, **kwargs)

  def per_example_loss(self, x, u, training=None):
    raise NotImplementedError

  def encode(self, x, u):
    raise NotImplementedError

  def call(self, inputs, training=None):
    """Per-example loss in nats, `[batch]` (or `[batch, K]`)."""
    return self.per_example_loss(inputs["x"], inputs["u"], training=training)

  def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
    per_model = ops.reshape(ops.mean(y_pred, axis=0), (-1,))
    if not training:
      return ops.sum(per_model)
    self._loss_sum.assign_add(ops.cast(per_model, self._loss_sum.dtype))
    self._loss_count.assign_add(ops.cast(1, self._loss_count.dtype))
    alive = self._alive * ops.cast(ops.isfinite(per_model), self._alive.dtype)
    self._alive.assign(alive)
    scale = getattr(self.optimizer, "lr_scale", None)
    if scale is not None and scale.shape == alive.shape:
      scale.assign(scale * ops.cast(alive, scale.dtype))
    live = ops.cast(alive, "bool")
    total = ops.sum(ops.where(live, per_model, ops.zeros_like(per_model)))
    # Non-finite only once every model has stopped.
    return ops.where(ops.any(live), total, ops.sum(per_model))

  def pop_model_losses(self):
    """Each model's mean training loss since the last call, `[K]` NumPy; then resets."""
    losses = ops.convert_to_numpy(self._loss_sum) / max(
        float(ops.convert_to_numpy(self._loss_count)), 1.0)
    self._loss_sum.assign(ops.zeros_like(self._loss_sum))
    self._loss_count.assign(0.0)
    return losses
