"""Times the training step of the equivariant set coupling beside a plain MLP coupling over the flattened set.

At the SpatialMNIST cpu preset's size (`experiments/spatial_mnist.py`: batches of 64 sets of
N = 50 points in D = 2, `TransformerCoupling` of width 32, 4 heads, 1 block, MLP ratio 2): one
Adam step on `-log_prob` of N(0, I) pushed through one coupling, inside one `tf.function` that
also builds the bijector (as `model.fit` does). The alternative is the same affine coupling on
the flattened set, `AffineCoupling(100, num_masked=50)` on `[x_1..x_50, y_1..y_50]` (the 50
first coordinates condition the 50 second ones) with an MLP conditioner of `--hidden` units:
not equivariant, and tied to N = 50. Both are timed in turn within each repeat (median of
`--repeats` after two warm-up steps), so load from other processes affects both alike; the
load average before and after is printed with the times.

Usage: `python benchmarks/set_coupling.py [--repeats 21] [--hidden 256]`.
"""
import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_probability as tfp  # noqa: E402

from experiments.spatial_mnist import PRESETS  # noqa: E402
from tfp_flows import layers as L  # noqa: E402
from machine_info import machine_info  # noqa: E402

tfb, tfd = tfp.bijectors, tfp.distributions
N, D = 50, 2


def _train_step(step, event_shape, to_event):
  """A `tf.function` Adam step on `-mean log_prob(to_event(x))` through `step`'s bijector."""
  optimizer = keras.optimizers.Adam(1e-3)
  base = tfd.Sample(tfd.Normal(0.0, 1.0), event_shape)

  @tf.function(autograph=False)
  def train(x):
    with tf.GradientTape() as tape:
      loss = -tf.reduce_mean(tfd.TransformedDistribution(base, step.bijector()).log_prob(
          to_event(x)))
    optimizer.apply_gradients(zip(tape.gradient(loss, step.trainable_variables),
                                  step.trainable_variables))
    return loss

  return train


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--repeats", type=int, default=21)
  parser.add_argument("--hidden", type=int, default=256)
  args = parser.parse_args(argv)
  cpu = PRESETS["cpu"]
  sizes = {k: cpu["transformer"][k] for k in ("width", "num_heads", "num_blocks", "mlp_ratio")}
  keras.utils.set_random_seed(0)
  set_step = L.TransformerCoupling(D, **sizes)
  flat_step = L.AffineCoupling(N * D, num_masked=N, hidden=(args.hidden, args.hidden))
  flatten = lambda x: tf.reshape(tf.transpose(x, [0, 2, 1]), [-1, N * D])
  steps = {"transformer_coupling": _train_step(set_step, [N, D], lambda x: x),
           "mlp_coupling_flattened": _train_step(flat_step, [N * D], flatten)}
  x = tf.random.stateless_normal([cpu["batch_size"], N, D], seed=[1, 2])
  load_before = os.getloadavg()
  for fn in steps.values():
    for _ in range(2):
      fn(x).numpy()
  times = {key: [] for key in steps}
  for _ in range(args.repeats):
    for key, fn in steps.items():
      start = time.perf_counter()
      fn(x).numpy()
      times[key].append(time.perf_counter() - start)
  params = {"transformer_coupling": set_step.count_params(),
            "mlp_coupling_flattened": flat_step.count_params()}
  result = {
      "what": "one Adam step of one coupling on -log_prob, batch of sets [64, 50, 2]",
      "sizes": {**sizes, "batch_size": cpu["batch_size"], "mlp_hidden": [args.hidden] * 2},
      "median_ms": {k: 1e3 * float(np.median(t)) for k, t in times.items()},
      "params": params, "repeats": args.repeats,
      **machine_info(load_before),
  }
  print(json.dumps(result, indent=1))
  return result


if __name__ == "__main__":
  main()
