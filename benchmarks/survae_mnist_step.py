"""One training step of the survae-mnist cpu-preset baseline: ours vs the same model from TFP parts; prints JSON.

Ours: `ImageFlow` baseline (conditional, cpu preset sizes): every coupling a
`MaskedCoupling` (checkerboard at C = 1, channel masks after the first
squeeze). TFP parts: the same model with each channel-mask coupling a
`tfb.RealNVP` (first half of the channels fixed, the 1x1 convolutions mixing
channels as in Glow) whose conditioner is a `ConvConditioner` of the fixed
half; the checkerboard couplings, ActNorm, 1x1 convolutions (`tfb.ScaleMatvecLU`),
squeeze, factor-out and dequantization are the same objects in both, since TFP
has no checkerboard coupling or slice surjection. Per model: parameters and the
median wall time of `--repeats` `train_on_batch` calls on one batch of MNIST
training images after 2 warm-up calls, the two models timed in turn.

Usage: `python benchmarks/survae_mnist_step.py [--repeats 10] [--batch 64]`.
"""
import argparse
import json
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_probability as tfp  # noqa: E402

from experiments.survae_mnist import PRESETS  # noqa: E402
from tfp_flows.datasets.mnist import load_mnist_labeled  # noqa: E402
from tfp_flows.layers.affine_coupling import affine  # noqa: E402
from tfp_flows.layers.conv_affine_coupling import ConvAffineCoupling  # noqa: E402
from tfp_flows.layers.conv_conditioner import ConvConditioner  # noqa: E402
from tfp_flows.layers.step import FlowStep  # noqa: E402
from tfp_flows.models import image_flow  # noqa: E402
from tfp_flows.models.image_flow_configs import baseline  # noqa: E402

tfb = tfp.bijectors


class RealNVPChannelCoupling(FlowStep):
  """A channel-split affine coupling as `tfb.RealNVP` with a `ConvConditioner` of the fixed half."""

  event_ndims = 3

  def __init__(self, image_shape, filters, num_blocks, context_size, log_scale_bound=3.0,
               **kwargs):
    h, w, c = image_shape
    super().__init__(c, context_size, **kwargs)
    self.num_masked, self.bound = c // 2, log_scale_bound
    self.conditioner = ConvConditioner((h, w, c // 2), 2 * (c - c // 2), filters, num_blocks,
                                       context_size, dtype=self.dtype_policy)

  def make_bijector(self, context, training):
    def bijector_fn(x0, units):
      params = self.conditioner(x0, context)
      return affine(params[..., :units], params[..., units:], self.bound)
    return tfb.RealNVP(num_masked=self.num_masked, bijector_fn=bijector_fn)


def tfp_coupling(image_shape, mask, parity, filters, num_blocks, context_size, dtype=None):
  """`tfb.RealNVP` where TFP has the coupling (channel masks), ours where it does not."""
  if mask == "channel":
    return RealNVPChannelCoupling(image_shape, filters, num_blocks, context_size, dtype=dtype)
  return ConvAffineCoupling(image_shape, mask=mask, parity=parity, filters=filters,
                            num_blocks=num_blocks, context_size=context_size, dtype=dtype)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--repeats", type=int, default=10)
  parser.add_argument("--batch", type=int, default=64)
  args = parser.parse_args()
  preset = PRESETS["cpu"]
  image_flow.COUPLINGS["tfp_realnvp"] = tfp_coupling
  images, labels = load_mnist_labeled("train")
  batch = {"image": images[:args.batch].astype("float32"),
           "label": labels[:args.batch].astype("int32")}
  models = {}
  for name, coupling in (("ours", "affine"), ("tfp_parts", "tfp_realnvp")):
    keras.utils.set_random_seed(0)
    model = baseline(steps=preset["steps"], filters=preset["filters"]["baseline"],
                     num_blocks=preset["num_blocks"], num_classes=10, coupling=coupling)
    model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=preset["clipnorm"]))
    model(batch, training=True)
    for _ in range(2):
      model.train_on_batch(batch)
    models[name] = model
  times = {name: [] for name in models}
  for _ in range(args.repeats):
    for name, model in models.items():
      start = time.perf_counter()
      model.train_on_batch(batch)
      times[name].append(time.perf_counter() - start)
  print(json.dumps({
      "batch": args.batch, "repeats": args.repeats, "preset": "cpu",
      "results": {name: {"parameters": int(models[name].count_params()),
                         "median_step_seconds": float(np.median(times[name])),
                         "min_step_seconds": float(np.min(times[name]))} for name in models},
      "load_average": os.getloadavg(), "cpus": os.cpu_count(), "tensorflow": tf.__version__,
      "python": platform.python_version()}, indent=1))


if __name__ == "__main__":
  main()
