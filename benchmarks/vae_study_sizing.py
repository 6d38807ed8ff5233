"""Sizing of the `cpu` presets of the MNIST VAE studies: what `model.fit` does per second here.

For each named model of a study (built as the study builds it): the time of a
first 5-update `fit` (tracing), updates/s of a following `fit` of `--steps`
updates of batch 100 on dynamically binarized training images, and the wall
time of the importance-weighted log p(x) (k = 128, chunks of 16) on 200 test
images, tracing included. One line per model.

Usage: `python benchmarks/vae_study_sizing.py planar|iaf STEPS MODEL [MODEL ...]`, e.g.
`python benchmarks/vae_study_sizing.py planar 100 diagonal planar_k10 planar_k40 nice_k10`.
"""

import importlib
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras

from tfp_flows.datasets.mnist import load_mnist


def main(study, steps, names):
  """Prints the tracing time, updates/s and k = 128 log p(x) time of each model."""
  module = importlib.import_module(f"experiments.{study}_mnist")
  data = load_mnist("train", "dynamic", batch_size=100, shuffle=True, repeat=True)
  x = next(iter(load_mnist("test", batch_size=200)))
  for name in names:
    keras.utils.set_random_seed(0)
    model = module.build(name, module.PRESETS["cpu"])
    model(x[:2])
    start = time.time()
    model.fit(data, epochs=1, steps_per_epoch=5, verbose=0)
    trace = time.time() - start
    start = time.time()
    model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
    rate = steps / (time.time() - start)
    start = time.time()
    model.log_likelihood(x, num_samples=128, chunk_size=16)
    print(
      f"{name}: first fit (tracing) {trace:.1f} s, {rate:.2f} updates/s at batch 100, "
      f"log p(x) k=128 on 200 images {time.time() - start:.1f} s",
      flush=True,
    )


if __name__ == "__main__":
  main(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
