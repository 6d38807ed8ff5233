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

  def check_inputs(self, x, u):
    """Validates data before training: finite x, widths, u one-hot over `n_segments`.

    Args:
      x: `[N, data_dim]` (or `[N, K, data_dim]`) array.
      u: `[N, n_segments]` (or `[N, K, n_segments]`) array.

    Raises:
      ValueError: naming the offending value and what was expected.
    """
    x, u = np.asarray(x), np.asarray(u)
    stack = () if self.num_models is None else (int(self.num_models),)
    if x.ndim != 2 + len(stack) or x.shape[1:] != stack + (self.data_dim,):
      raise ValueError(f"x has shape {x.shape}, expected [N, {', '.join(map(str, stack + (self.data_dim,)))}].")
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

  def per_example_loss(self, x, u, training=None):
    raise NotImplementedError

  def encode(self, x, u):
    raise NotImplementedError

  def call(self, inputs, training=None):
    """Per-example loss in nats, `[batch]` (or `[batch, K]`)."""
    return self.per_example_loss(inputs["x"], inputs["u"], training=training)

  def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
    per_model = ops.reshape(ops.mean(y_pred, axis=0), (-1,))
    if training:
      self._loss_sum.assign_add(ops.cast(per_model, self._loss_sum.dtype))
      self._loss_count.assign_add(ops.cast(1, self._loss_count.dtype))
    return ops.sum(per_model)

  def pop_model_losses(self):
    """Each model's mean training loss since the last call, `[K]` NumPy; then resets."""
    losses = ops.convert_to_numpy(self._loss_sum) / max(
        float(ops.convert_to_numpy(self._loss_count)), 1.0)
    self._loss_sum.assign(ops.zeros_like(self._loss_sum))
    self._loss_count.assign(0.0)
    return losses
