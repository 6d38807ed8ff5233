"""The models of the SurVAE toy study (Nielsen et al. 2020, Sec. 5.1): flows with and without surjections.

Every model is a stack of the baseline's steps (affine coupling with an MLP, Householder
orthonormal mixing) with at most one surjective layer between two parts of the stack:

* `flow`, `flow20`: `steps` or `2 * steps` pairs on N(0, I_2); `flow_small`: 3 pairs and a
  coupling with an MLP of 64-64; `augment`: the same on 4-D under Augment 2 -> 4.
* `abs_fixed`, `abs_learned`: Abs (q = 1/2 fixed or learned) below `steps` pairs and a softplus
  (x -> |x| -> softplus^-1 -> flow); `abs_middle`: Abs after `steps // 2` pairs (the data side).
* `bottleneck`: `steps` pairs, Slice 2 -> 1, Augment 1 -> 2 (q(e | z) = N(0, 1)), `steps` pairs.
* `max`: `2 * steps` pairs, then Max 2 -> 1 onto a 1-D N(0, 1).
* `*_cond`: `flow`, `abs_fixed`, `abs_learned` conditioned on a one-hot label of width
  `LABEL_WIDTH` (every coupling sees it; so does the learned q of `abs_learned_cond`; the fixed q
  stays 1/2).
"""

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_flows import layers
from tfp_flows.datasets.toy2d import NUM_LABELS
from tfp_flows.layers import Abs, Augment, Max, Slice
from tfp_flows.models import SurVAEFlow

tfd, tfb = tfp.distributions, tfp.bijectors
UNCONDITIONAL = (
  "flow",
  "abs_fixed",
  "abs_learned",
  "abs_middle",
  "flow_small",
  "augment",
  "flow20",
  "bottleneck",
  "max",
)
MODELS = UNCONDITIONAL + ("flow_cond", "abs_fixed_cond", "abs_learned_cond")
LABEL_WIDTH = max(NUM_LABELS.values())  # one width for all datasets: one traced model per kind


def steps(event_size, pairs, hidden, final_coupling=False, context_size=None, seed=0):
  """(AffineCoupling, Householder) x pairs [+ AffineCoupling]: layers, data side first.

  Args:
    event_size: D.
    pairs: number of (coupling, Householder) pairs.
    hidden: hidden widths of each coupling's MLP.
    final_coupling: append one more coupling.
    context_size: width of the context every coupling sees, or None.
    seed: seed of the first Householder step's vectors (step i uses `seed + i`).
  """
  coupling = lambda: layers.AffineCoupling(
    event_size, num_masked=event_size // 2, hidden=hidden, context_size=context_size
  )
  out = []
  for i in range(pairs):
    out += [coupling(), layers.Householder(event_size, seed=seed + i)]
  return out + [coupling()] if final_coupling else out


def one_hot(labels, width=LABEL_WIDTH):
  """float32 one-hot `[N, width]` of int labels `[N]`."""
  return np.eye(width, dtype="float32")[np.asarray(labels)]


@keras.saving.register_keras_serializable(package="experiments")
class ToyModel(keras.Model):
  """One of `MODELS` as a Keras model; `call(x)` (conditional: `call((x, c))`) returns `log_prob`.

  Shapes: x `[batch, 2]`, context c `[batch, LABEL_WIDTH]` (one-hot); output `[batch]` in nats
  (for `augment` and `bottleneck` a one-sample lower bound, SurVAE Eq. 8).

  Args:
    kind: a name in `MODELS`.
    num_steps: the number of (coupling, Householder) pairs of the baseline flow (10 in the study).
    hidden: hidden widths of the baseline's coupling MLPs ((64,) * 5 in the study).

  Raises:
    ValueError: for an unknown kind or `num_steps < 1`.
  """

  def __init__(self, kind, num_steps=10, hidden=(64,) * 5, **kwargs):
    super().__init__(**kwargs)
    if kind not in MODELS:
      raise ValueError(f"unknown model {kind!r}; choose from {MODELS}.")
    if int(num_steps) < 1:
      raise ValueError(f"num_steps must be >= 1, got {num_steps}.")
    self.kind, n = kind, int(num_steps)
    self.conditional = kind.endswith("_cond")
    base = kind.removesuffix("_cond")
    context = LABEL_WIDTH if self.conditional else None
    small = kind in ("flow_small", "augment")
    self.latent_size = 4 if kind == "augment" else 2
    pairs = 3 if small else 2 * n if kind in ("flow20", "bottleneck", "max") else n
    self.flow = steps(
      self.latent_size,
      pairs,
      (64, 64) if small else tuple(hidden),
      final_coupling=small,
      context_size=context,
    )
    self.abs = (
      Abs(2, learn_q=base != "abs_fixed", context_size=context if base == "abs_learned" else None)
      if base.startswith("abs")
      else None
    )
    surjections = {
      "augment": [Augment(2, 2)],
      "bottleneck": [Augment(1, 1), Slice(2, 1)],
      "max": [Max(2)],
    }
    self.surjections = surjections.get(kind, [] if self.abs is None else [self.abs])
    split = {"abs_middle": 2 * (n // 2), "bottleneck": 2 * n, "max": 4 * n}.get(kind, 0)
    lower, upper = self.flow[:split], self.flow[split:]
    fixed = [tfb.Softplus()] if self.abs is not None else []
    self.survae = SurVAEFlow(lower + self.surjections[::-1] + fixed + upper,
                             latent_shape=(self.latent_size,) if upper else (),
                             context_size=context)
    self.built = True

  def distribution(self, context=None):
    """The model's `tfd.Distribution` over 2-D x (given a one-hot context `[batch, W]`)."""
    return self.survae.distribution(context)

  def call(self, inputs):
    x, context = inputs if self.conditional else (inputs, None)
    return self.distribution(context).log_prob(x)

  def q(self, label_width=None):
    """Learned sign probabilities q = P(x_d > 0): `[2]`, or `[K, 2]` per label k < `label_width`."""
    logits = tf.convert_to_tensor(self.abs.logits)
    if self.abs.context_net is not None:
      logits = logits + self.abs.context_net(one_hot(np.arange(label_width)))
    return tf.sigmoid(logits).numpy()


def marginal_log_prob(model, x, prior):
  """log sum_k prior_k p(x | k) of a conditional `ToyModel`: `[N]` nats for x `[N, 2]`.

  Args:
    model: a conditional `ToyModel` (exact).
    x: `[N, 2]` points.
    prior: `[K]` label probabilities (labels with probability 0 are skipped).
  """
  terms = [
    model.distribution(one_hot([k])).log_prob(x) + np.log(p) for k, p in enumerate(prior) if p > 0
  ]
  return tf.reduce_logsumexp(tf.stack(terms), axis=0)
