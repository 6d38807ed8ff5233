"""A `tf.data` pipeline of simulated (theta, x) pairs for neural posterior estimation."""
import tensorflow as tf


def simulation_dataset(prior, simulate, num_simulations, batch_size, seed=0, chunk=1000,
                       cache=True):
  """Streams `{"x": x, "theta": theta}` batches of simulated pairs.

  The simulation budget is fixed (as in the SBI benchmark): chunk k draws
  `chunk` parameters from the prior and simulates them with seeds derived
  from (seed, k) (stateless), inside `Dataset.map`; with `cache=True` each
  pair is simulated once and replayed, shuffled, in later epochs.

  Args:
    prior: `tfd.Distribution` over theta (event `[P]`) with stateless `sample(n, seed=...)`.
    simulate: callable `(theta [n, P], seed [2] int32) -> x [n, ...]`, batched
      over theta (e.g. `SIR.simulate`).
    num_simulations: total number of pairs (a multiple of `chunk` is not
      needed; the last chunk is trimmed).
    batch_size: training batch size.
    seed: integer seed.
    chunk: parameters simulated per `map` call.
    cache: simulate once (True) or afresh each epoch (False).

  Returns:
    `tf.data.Dataset` of dicts `{"x": [b, ...], "theta": [b, P]}` (float32).

  Raises:
    ValueError: for non-positive sizes.
  """
  if min(int(num_simulations), int(batch_size), int(chunk)) < 1:
    raise ValueError(f"num_simulations = {num_simulations}, batch_size = {batch_size}, "
                     f"chunk = {chunk}: expected positive integers.")
  chunks = -(-int(num_simulations) // int(chunk))

  def one_chunk(k):
    k = tf.cast(k, tf.int32)
    theta = prior.sample(int(chunk), seed=tf.stack([seed, 2 * k]))
    x = simulate(theta, seed=tf.stack([seed, 2 * k + 1]))
    return {"x": tf.cast(x, tf.float32), "theta": tf.cast(theta, tf.float32)}

  ds = tf.data.Dataset.range(chunks).map(one_chunk).unbatch().take(int(num_simulations))
  if cache:
    ds = ds.cache()
  return (ds.shuffle(min(int(num_simulations), 100000), seed=seed)
          .batch(int(batch_size), drop_remainder=True).prefetch(tf.data.AUTOTUNE))
