"""Old and new code of a planar-mnist model, compared at the same weights.

Run once per code version; each run prints one JSON line: a digest of the model's initial weights
(seed 0, the quick preset) and, given the weights of a trained model, its mean ELBO over 64
images and its importance-weighted log p(x) (k = 32) over 16, in nats, with fixed seeds. Equal
lines from two versions mean: the same initialisation and the same math; a difference between
their trained models then comes from training (the order of floating-point operations in the
step), not from the model.

Usage (PYTHONPATH selects the code):
    PYTHONPATH=/work/base-bd60ba6 python benchmarks/vae_same_weights.py planar_k10 \
        RUN_OLD/planar_k10/model.weights.h5 RUN_OLD/test_images.npy
    PYTHONPATH=. python benchmarks/vae_same_weights.py planar_k10 (the same files)
"""
import hashlib
import json
import sys

import keras
import numpy as np

from experiments import planar_mnist


def main(name, weights, images):
  keras.utils.set_random_seed(0)
  model = planar_mnist.build(name, planar_mnist.PRESETS["quick"])
  x = np.load(images)[:64].astype("float32")
  model(x[:2])
  digest = hashlib.sha256(b"".join(w.tobytes() for w in model.get_weights())).hexdigest()[:16]
  model.load_weights(weights)
  keras.utils.set_random_seed(0)
  elbo = float(np.mean(model.elbo(x)))
  keras.utils.set_random_seed(0)
  log_p = float(np.mean(model.log_likelihood(x[:16], num_samples=32, chunk_size=32)))
  print(json.dumps(dict(model=name, initial_weights_sha256=digest, elbo=elbo,
                        log_likelihood=log_p)))


if __name__ == "__main__":
  main(*sys.argv[1:4])
