"""Speed of the MNIST VAEs on the CPU: training throughput, prior sampling, k = 128 log p(x).

For each model (the IAF-VAE with a diagonal or IAF posterior, the DLGM with a
diagonal, planar or NICE posterior): training throughput in images/s (median
of `--repeats` `train_on_batch` calls of batch 100 after warm-up), the time to
sample one image from the prior (median of `sample(1)` calls in a traced
function, ms; the IAF paper's figure is 50 ms per image), and the wall time
of the importance-weighted log p(x) with k = 128 on `--iw-images` test
images (`log_likelihood`, chunks of 16, batches of 100; traced before timing).
Side by side with the alternative: one sampling pass with log q of a
2-step IAF posterior (L = 32, MADE 320-320, batch 100) built from our
`MaskedAffine` (one network pass per step) and from TFP's
`tfb.Invert(tfb.MaskedAutoregressiveFlow(tfb.AutoregressiveNetwork))`, whose
log-det reruns the network. Prints one JSON line and, with `--write`,
replaces this benchmark's section of docs/benchmarks.md.

Usage: `python benchmarks/vae.py [--repeats 20] [--iw-images 1000] [--write]`.
Images are MNIST test images (dynamic binarization, seed 0) when the files
are available (`tfp-flows data mnist`), else random binary images.
"""
import argparse
import json
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_probability as tfp  # noqa: E402

from write_section import write_section  # noqa: E402
from tfp_flows.layers import MaskedAffine  # noqa: E402
from tfp_flows.models import DLGM, IAFVAE  # noqa: E402

tfb, tfd = tfp.bijectors, tfp.distributions
MODELS = {
    "iaf_vae/diagonal": lambda: IAFVAE(posterior="diagonal"),
    "iaf_vae/iaf_d2_w320": lambda: IAFVAE(posterior="iaf", depth=2, width=320),
    "iaf_vae/iaf_d2_w1920": lambda: IAFVAE(posterior="iaf", depth=2, width=1920),
    "dlgm/diagonal": lambda: DLGM(posterior="diagonal"),
    "dlgm/planar_k10": lambda: DLGM(posterior="planar", num_steps=10),
    "dlgm/planar_k80": lambda: DLGM(posterior="planar", num_steps=80),
    "dlgm/nice_k10": lambda: DLGM(posterior="nice", num_steps=10),
}


def median_seconds(fn, repeats, warmup=2):
  """Median wall seconds of `fn()` over `repeats` calls after `warmup` calls."""
  for _ in range(warmup):
    fn()
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    fn()
    times.append(time.perf_counter() - start)
  return float(np.median(times))


def test_images(n):
  """`(images [n, 28, 28, 1], source)`: MNIST test images, or random binary ones."""
  try:
    from tfp_flows.datasets.mnist import load_mnist
    x = next(iter(load_mnist("test", binarization="dynamic", batch_size=n, seed=0)))
    return x.numpy(), "mnist test"
  except (FileNotFoundError, ValueError) as error:
    print(f"MNIST unavailable ({error}); timing random binary images")
    rng = np.random.default_rng(0)
    return (rng.uniform(size=(n, 28, 28, 1)) < 0.13).astype("float32"), "random binary"


def model_times(name, x, repeats, iw_images):
  """Training images/s, ms per sampled image and seconds for k = 128 log p(x) of one model."""
  keras.utils.set_random_seed(0)
  model = MODELS[name]()
  model.compile(keras.optimizers.Adamax(1e-3))
  batch = x[:100]
  step = median_seconds(lambda: model.train_on_batch(batch), repeats)
  sample = tf.function(lambda: model.sample(1))
  sample_ms = 1e3 * median_seconds(lambda: sample().numpy(), repeats)
  model.log_likelihood(x[:100], num_samples=128, chunk_size=16)  # trace
  start = time.perf_counter()
  model.log_likelihood(x[:iw_images], num_samples=128, chunk_size=16)
  return {"train_images_per_s": round(100 / step, 1), "sample_ms_per_image": round(sample_ms, 2),
          "log_px_k128_s": round(time.perf_counter() - start, 1), "iw_images": iw_images,
          "parameters": int(sum(np.prod(v.shape) for v in model.trainable_variables))}


def iaf_pass_ms(repeats, latent=32, width=320, batch=100):
  """ms of one sample-and-log-prob pass of a 2-step IAF posterior: ours vs TFP's."""
  base = tfd.Sample(tfd.Normal(0.0, 1.0), latent)
  ours = [MaskedAffine(latent, inverse=True, hidden_units=width, num_blocks=1,
                       activation="elu", scale="sigmoid") for _ in range(2)]
  theirs = [tfb.Invert(tfb.MaskedAutoregressiveFlow(tfb.AutoregressiveNetwork(
      params=2, hidden_units=[width, width], activation="elu"))) for _ in range(2)]
  out = {}
  for label, bijector in (("ours", tfb.Chain([s.bijector() for s in ours])),
                          ("tfp", tfb.Chain(theirs))):
    dist = tfd.TransformedDistribution(base, bijector)
    fn = tf.function(lambda d=dist: d.experimental_sample_and_log_prob(batch))
    out[label] = round(1e3 * median_seconds(lambda f=fn: [t.numpy() for t in f()], repeats), 2)
  return out


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--repeats", type=int, default=20)
  parser.add_argument("--iw-images", type=int, default=1000)
  parser.add_argument("--models", default=",".join(MODELS))
  parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
  args = parser.parse_args()
  x, source = test_images(max(args.iw_images, 100))
  result = {"benchmark": "vae", "machine": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "load_avg": os.getloadavg()[0], "images": source,
            "models": {m: model_times(m, x, args.repeats, args.iw_images)
                       for m in args.models.split(",")},
            "iaf_2_steps_sample_and_log_prob_ms": iaf_pass_ms(args.repeats)}
  print(json.dumps(result))
  if args.write:
    rows = [f"| {m} | {r['parameters']:,} | {r['train_images_per_s']} | "
            f"{r['sample_ms_per_image']} | {r['log_px_k128_s']} |"
            for m, r in result["models"].items()]
    iaf = result["iaf_2_steps_sample_and_log_prob_ms"]
    write_section("vae", "\n".join([
        "## MNIST VAEs (issue 5)", "",
        f"`python benchmarks/vae.py --write` ({result['cpus']} CPUs, load average "
        f"{result['load_avg']:.1f} at the start; {source} images):", "",
        "| model | parameters | training images/s (batch 100) | ms to sample one image | "
        f"s for log p(x), k = 128, {args.iw_images} images |", "|---|---|---|---|---|", *rows, "",
        f"2-step IAF posterior, sample + log q of 100 draws (L = 32, MADE 320-320): ours "
        f"{iaf['ours']} ms, TFP's `Invert(MaskedAutoregressiveFlow)` {iaf['tfp']} ms.", ""]))


if __name__ == "__main__":
  main()
