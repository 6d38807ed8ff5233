"""SurVAE flows on MNIST in bits/dim (issue 12; Nielsen et al. 2020, Sec. 5.3): slicing vs max-pooling.

Models (`tfp_flows.models.image_flow_configs`), class-conditional on the digit:
`baseline` (multiscale RealNVP/Glow: steps, squeeze, factor out half), `maxpool`
(MaxPoolFlow: a 2x2 `MaxPool2D` in place of each squeeze + slice, filters set so the
parameter counts are close) and `reproduction` (the reproduction's architecture: 4 scales,
max-pool 28 -> 14 -> 7, overlapping 7 -> 3; its likelihood is approximate). Data: the
`mnist_idx` tfds builder, 8-bit grayscale, uniform dequantization. Training: `model.fit` on
bits/dim of the one-sample bound, Adam with clipped gradient norm. Evaluation on the first
`test_images` test images: importance-weighted bits/dim with `iw_samples` dequantizations
(a bound; "approx." for the reproduction), its standard error over images. Sample quality:
a small CNN classifier (task `classifier`, trained on the 50,000 training images) labels
`samples_per_temperature` class-conditional samples per temperature; accuracy = asked label
== predicted label. Tables and figures: `experiments.survae_mnist_report`.
"""
import json
import math
import os
import time

import keras
import numpy as np
import tensorflow as tf

from experiments import runner
from experiments.survae_mnist_report import report
from tfp_flows.datasets.mnist import load_mnist_labeled
from tfp_flows.models.image_flow_configs import CONFIGS

MODELS = ("baseline", "maxpool", "reproduction")
COMMON = dict(models=MODELS, batch_size=64, learning_rate=1e-3, clipnorm=10.0, num_classes=10,
              temperatures=(1.0, 0.7), coupling="affine")
PRESETS = {
  "quick": dict(COMMON, steps=1, filters={"baseline": 4, "maxpool": 4, "reproduction": 4},
                num_blocks=0, train_images=256, fit_steps=8, steps_per_epoch=4, test_images=64,
                iw_samples=2, samples_per_temperature=20, classifier_images=512,
                classifier_epochs=1, latent_images=64),
  "cpu": dict(COMMON, steps=3, filters={"baseline": 32, "maxpool": 36, "reproduction": 32},
              num_blocks=1, train_images=50_000, fit_steps=600, steps_per_epoch=50,
              test_images=1000, iw_samples=8, samples_per_temperature=1000,
              classifier_images=50_000, classifier_epochs=2, latent_images=2000),
  "paper": dict(COMMON, steps=8, filters={"baseline": 128, "maxpool": 134, "reproduction": 116},
                num_blocks=2, train_images=50_000, fit_steps=100_000, steps_per_epoch=1000,
                test_images=10_000, iw_samples=64, samples_per_temperature=1000,
                classifier_images=50_000, classifier_epochs=5, latent_images=10_000),
}


def add_arguments(parser):
  """Options beside the runner's: `--models`, `--fit-steps`, `--data-dir`, `--seed`."""
  runner.add_names(parser, "--models", f"subset of {MODELS}")
  runner.add_count(parser, "--fit-steps", "override the preset's training steps")
  parser.add_argument("--data-dir", default=None, help="tfds data directory")
  runner.add_seed(parser, "seed of weights and data order")


def configure(args, preset):
  """The run config. Raises ValueError naming `--models`, `--fit-steps` or `--seed` for bad values."""
  config = dict(preset, seed=runner.seed("--seed", args.seed), data_dir=args.data_dir)
  config["models"] = runner.choices("--models", args.models or preset["models"], MODELS)
  return runner.override_count(config, args, "--fit-steps")


def tasks(config):
  """`classifier`, then `model/<name>` per model."""
  return ["classifier"] + [f"model/{m}" for m in config["models"]]


def depends(key, config):
  """A model's sample accuracy needs the classifier."""
  return ["classifier"] if key.startswith("model/") else []


def classifier_model():
  """The small CNN that scores samples: two 3x3 conv + max-pool stages, dense softmax over 10 digits."""
  return keras.Sequential([
      keras.Input((28, 28, 1)), keras.layers.Rescaling(1 / 255.0),
      keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(),
      keras.layers.Conv2D(64, 3, activation="relu"), keras.layers.MaxPooling2D(),
      keras.layers.Flatten(), keras.layers.Dense(128, activation="relu"),
      keras.layers.Dense(10)])


def train_classifier(config, ctx):
  keras.utils.set_random_seed(config["seed"])
  images, labels = load_mnist_labeled("train", config["data_dir"])
  test_images, test_labels = load_mnist_labeled("test", config["data_dir"])
  n = config["classifier_images"]
  model = classifier_model()
  model.compile(optimizer="adam", metrics=["accuracy"],
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
  model.fit(images[:n], labels[:n], batch_size=128, epochs=config["classifier_epochs"],
            verbose=ctx.verbose)
  model.save(os.path.join(ctx.folder, "classifier.keras"))
  _, accuracy = model.evaluate(test_images, test_labels, verbose=0)
  return dict(test_accuracy=float(accuracy), train_images=n)


def build(name, config):
  return CONFIGS[name](steps=config["steps"], filters=config["filters"][name],
                       num_blocks=config["num_blocks"], num_classes=config["num_classes"],
                       coupling=config["coupling"])


def train_model(name, config, ctx):
  """Trains one model, evaluates it, writes its arrays; returns the task's result."""
  keras.utils.set_random_seed(config["seed"])
  images, labels = load_mnist_labeled("train", config["data_dir"])
  valid_images, valid_labels = load_mnist_labeled("validation", config["data_dir"])
  test_images, test_labels = load_mnist_labeled("test", config["data_dir"])
  images, labels = images[:config["train_images"]], labels[:config["train_images"]]
  model = build(name, config)
  model.check_data(images, labels)
  data = tf.data.Dataset.from_tensor_slices(
      {"image": images.astype("float32"), "label": labels.astype("int32")})
  data = data.shuffle(len(images), seed=config["seed"]).repeat().batch(config["batch_size"])
  valid = {"image": valid_images[:1000].astype("float32"),
           "label": valid_labels[:1000].astype("int32")}
  model.compile(optimizer=keras.optimizers.Adam(config["learning_rate"],
                                                clipnorm=config["clipnorm"]))
  model(data.take(1).get_single_element(), training=True)  # ActNorm init
  start = time.time()
  history = model.fit(data, epochs=max(1, config["fit_steps"] // config["steps_per_epoch"]),
                      steps_per_epoch=config["steps_per_epoch"], validation_data=(valid,),
                      validation_batch_size=250, callbacks=ctx.callbacks(),
                      verbose=ctx.verbose, shuffle=False).history
  train_seconds = time.time() - start
  n = config["test_images"]
  start = time.time()
  bits = model.bits_per_dim(test_images[:n], test_labels[:n], config["iw_samples"])
  result = dict(model=name, likelihood=model.likelihood, parameters=int(model.count_params()),
                train_seconds=train_seconds, eval_seconds=time.time() - start,
                test_bits_per_dim=float(bits.mean()),
                test_bits_per_dim_se=float(bits.std(ddof=1) / math.sqrt(len(bits))),
                test_images=n, iw_samples=config["iw_samples"],
                history={k: [float(v) for v in vs] for k, vs in history.items()})
  classifier = keras.saving.load_model(os.path.join(ctx.folder_of("classifier"),
                                                    "classifier.keras"))
  per = config["samples_per_temperature"]
  asked = np.repeat(np.arange(10), per // 10)
  result["sample_accuracy"] = {}
  for i, temperature in enumerate(config["temperatures"]):
    samples = np.concatenate([model.sample(asked[j:j + 250], temperature=temperature,
                                           seed=[config["seed"], 100 * i + j]).numpy()
                              for j in range(0, len(asked), 250)])
    predicted = np.argmax(classifier.predict(samples, batch_size=250, verbose=0), axis=-1)
    result["sample_accuracy"][str(temperature)] = float(np.mean(predicted == asked))
    grid = samples.reshape(10, per // 10, 28, 28)[:, :10]
    np.save(os.path.join(ctx.folder, f"samples_T{temperature}.npy"), grid.astype("uint8"))
  m = config["latent_images"]
  latent = model.encode(test_images[:m], test_labels[:m], seed=[config["seed"], 7])
  np.save(os.path.join(ctx.folder, "latent.npy"), latent.reshape(m, -1).astype("float32"))
  return result


def run_task(key, config, ctx):
  """`classifier`: trains the sample classifier; `model/<name>`: trains and evaluates a flow."""
  if key == "classifier":
    return train_classifier(config, ctx)
  return train_model(key.split("/")[1], config, ctx)


STUDY = runner.Study("survae-mnist", PRESETS, configure, tasks, run_task, report,
                     add_arguments=add_arguments, depends=depends)
