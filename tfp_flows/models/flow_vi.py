"""Flow variational inference: fit a normalizing flow q to an unnormalised density exp(-U) by annealed reverse KL."""
import keras
import tensorflow as tf

from tfp_flows.checks import check_int


class FlowVI(keras.Model):
  """Fits `flow` to `p(x) = exp(-U(x)) / Z` by the annealed reverse KL; `fit` needs only a dummy dataset.

  Rezende & Mohamed (2015, arXiv:1505.05770, Sec. 6.1): each train step
  draws `batch_size` base samples z ~ N(0, I_D) (a seeded
  `keras.random.SeedGenerator`), pushes them forward x = f(z) (TFP's forward,
  latent -> data; no inverse is needed, so planar and radial flows never run
  their iterative inverse) with `log q(x) = log N(z) - log|det df/dz|`, and
  minimises `mean(log q(x) + beta_t U(x))`, `beta_t = min(1, 0.01 + t /
  anneal_steps)` with t the optimizer's iteration count (the paper anneals
  over 10000 iterations). Metrics (nats): `loss` (annealed) and
  `free_energy` = `mean(log q + U)` = KL(q || p) - log Z, so KL(q || p) is
  `free_energy + log Z` once log Z is known (e.g. `targets.log_normalizer`).

  Args:
    flow: a `tfp_flows.layers.Flow` (or any layer with `event_size` and
      `distribution()` returning a `tfd.TransformedDistribution` of a base
      over `[D]`).
    energy: callable `U`: `[n, D]` -> `[n]` energies in nats, TensorFlow ops
      (e.g. `tfp_flows.targets.U1`).
    anneal_steps: iterations until beta reaches 1 (> 0).
    batch_size: samples per step.
    seed: integer seed of the sampling.
    **kwargs: passed to `keras.Model`.

  Raises:
    TypeError: if `flow` has no `distribution` method or `event_size`,
      `energy` is not callable, or `batch_size`/`seed` are not integers.
    ValueError: if `anneal_steps <= 0` or `batch_size < 1`.

  Example:
    >>> import keras, tensorflow as tf
    >>> from tfp_flows import layers, targets
    >>> flow = layers.Flow([layers.Planar(2) for _ in range(8)], event_size=2)
    >>> model = FlowVI(flow, targets.U1, anneal_steps=300, batch_size=100)
    >>> model.compile(optimizer=keras.optimizers.Adam(3e-3))
    >>> dummy = tf.data.Dataset.from_tensors(0.0).repeat()
    >>> history = model.fit(dummy, epochs=1, steps_per_epoch=100, verbose=0)
    >>> x, log_q = model.sample_and_log_prob(1000)   # [1000, 2], [1000] nats
  """

  def __init__(self, flow, energy, anneal_steps, batch_size, seed=0, **kwargs):
    super().__init__(**kwargs)
    if not callable(getattr(flow, "distribution", None)) or not hasattr(flow, "event_size"):
      raise TypeError(f"FlowVI: flow must be a layer with distribution() and event_size "
                      f"(e.g. tfp_flows.layers.Flow), got {flow!r}.")
    if not callable(energy):
      raise TypeError(f"FlowVI: energy must be a callable [n, D] -> [n], got {energy!r}.")
    if isinstance(anneal_steps, bool) or not isinstance(anneal_steps, (int, float)):
      raise TypeError(f"FlowVI: anneal_steps must be a number > 0, got {anneal_steps!r}.")
    if not anneal_steps > 0:
      raise ValueError(f"FlowVI: anneal_steps must be > 0, got {anneal_steps}.")
    self.flow, self.energy = flow, energy
    self.anneal_steps = float(anneal_steps)
    self.batch_size = check_int("FlowVI", "batch_size", batch_size)
    self.seed_generator = keras.random.SeedGenerator(check_int("FlowVI", "seed", seed, 0))
    self.loss_tracker = keras.metrics.Mean(name="loss")
    self.free_energy_tracker = keras.metrics.Mean(name="free_energy")
    self.built = True

  @property
  def metrics(self):
    return [self.loss_tracker, self.free_energy_tracker]

  @tf.autograph.experimental.do_not_convert
  def sample_and_log_prob(self, n):
    """`n` samples of q `[n, D]` and `log q` `[n]` in nats, by the forward pass."""
    dist = self.flow.distribution()
    z = keras.random.normal((n, self.flow.event_size), seed=self.seed_generator,
                            dtype=self.flow.compute_dtype)
    x = dist.bijector.forward(z)
    return x, dist.distribution.log_prob(z) - dist.bijector.forward_log_det_jacobian(z, 1)

  def train_step(self, data):
    step = tf.cast(self.optimizer.iterations, self.flow.compute_dtype)
    beta = tf.minimum(1.0, 0.01 + step / self.anneal_steps)
    with tf.GradientTape() as tape:
      x, log_q = self.sample_and_log_prob(self.batch_size)
      energy = self.energy(x)
      loss = tf.reduce_mean(log_q + beta * energy)
    grads = tape.gradient(loss, self.trainable_variables)
    self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
    self.loss_tracker.update_state(loss)
    self.free_energy_tracker.update_state(tf.reduce_mean(log_q + energy))
    return {m.name: m.result() for m in self.metrics}
