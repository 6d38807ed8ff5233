"""Times every flow step of tfp_flows beside the TFP construction it replaces; prints JSON.

For batch 1024 at D = 2 and D = 64: `forward` + its log-det and `inverse`
+ its log-det, each inside one `tf.function` that also builds the bijector
(as a training step does), the median of `--repeats` timed calls after two
warm-up calls, ours and TFP's timed in turn. TFP equivalents use `tf_keras` conditioners of the same size
(`tfb.AutoregressiveNetwork` for MAF/IAF/spline MAF, a `tf_keras` MLP for
`tfb.RealNVP`). Then 1,000 draws from a 5-step MAF at D = 64, ours
(`Flow` of `MaskedAffine` steps) against a chain of
`tfb.MaskedAutoregressiveFlow`.

Usage: `python benchmarks/bijectors.py [--repeats 11] [--hidden 64]`.
"""
import argparse
import json
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_probability as tfp  # noqa: E402
import tf_keras  # noqa: E402

from tfp_flows import layers as L  # noqa: E402
from tfp_flows.layers.affine_coupling import affine  # noqa: E402
from tfp_flows.layers.spline_autoregressive import (rational_quadratic_spline,  # noqa: E402
                                                    spline_params_size)

tfb, tfd = tfp.bijectors, tfp.distributions
BATCH, BINS = 1024, 8


def _run(fn, x):
  tf.nest.map_structure(lambda t: t.numpy(), fn(x))


def median_ms(fns, x, repeats):
  """Median wall time in ms of each `fns[key](x)`, after two warm-up calls.

  The functions are timed in turn within each repeat, so load from other
  processes on a shared machine affects all of them alike.
  """
  for fn in fns.values():
    for _ in range(2):
      _run(fn, x)
  times = {key: [] for key in fns}
  for _ in range(repeats):
    for key, fn in fns.items():
      start = time.perf_counter()
      _run(fn, x)
      times[key].append(time.perf_counter() - start)
  return {key: 1e3 * float(np.median(t)) for key, t in times.items()}


def _timed_fns(make_bijector):
  @tf.function(autograph=False)
  def forward(x):
    b = make_bijector()
    return b.forward(x), b.forward_log_det_jacobian(x, event_ndims=1)

  @tf.function(autograph=False)
  def inverse(x):
    b = make_bijector()
    return b.inverse(x), b.inverse_log_det_jacobian(x, event_ndims=1)

  return {"forward": forward, "inverse": inverse}


def directions(makers, d, repeats):
  """`{impl: {"forward": ms, "inverse": ms}}` for zero-argument bijector factories `{impl: make}`."""
  x = tf.random.stateless_normal([BATCH, d], seed=[1, 2])
  fns = {(impl, key): fn for impl, make in makers.items()
         for key, fn in _timed_fns(make).items()}
  ms = median_ms(fns, x, repeats)
  return {impl: {key: ms[(impl, key)] for key in ("forward", "inverse")} for impl in makers}


def tf_keras_mlp(d_in, d_out, hidden):
  """A 2-hidden-layer ReLU MLP in tf_keras (the conditioner of TFP's RealNVP)."""
  net = tf_keras.Sequential([tf_keras.layers.Dense(hidden, "relu"),
                             tf_keras.layers.Dense(hidden, "relu"),
                             tf_keras.layers.Dense(d_out)])
  net.build((None, d_in))
  return net


def tfp_equivalents(d, hidden):
  """Factories of TFP's own constructions, keyed like `ours`."""
  m = d // 2
  affine_net = tf_keras_mlp(m, 2 * (d - m), hidden)
  spline_net = tf_keras_mlp(m, (d - m) * spline_params_size(BINS), hidden)
  made = tfb.AutoregressiveNetwork(params=2, event_shape=[d], hidden_units=[hidden] * 2)
  spline_made = tfb.AutoregressiveNetwork(params=spline_params_size(BINS), event_shape=[d],
                                          hidden_units=[hidden] * 2)

  def shift_log_scale(x0, units):
    p = tf.reshape(affine_net(x0), [-1, units, 2])
    return p[..., 0], 3.0 * tf.tanh(p[..., 1] / 3.0)

  def spline_fn(x0, units):
    p = tf.reshape(spline_net(x0), [-1, units, spline_params_size(BINS)])
    return tfb.Invert(rational_quadratic_spline(p, BINS, 3.0, hidden))

  def maf_fn(x):
    p = made(x)
    return affine(p[..., 0], p[..., 1], 3.0)

  def maf():
    return tfb.MaskedAutoregressiveFlow(bijector_fn=maf_fn)

  bn = tf_keras.layers.BatchNormalization()
  bn.build((None, d))
  return {
      "AffineCoupling": lambda: tfb.RealNVP(num_masked=m, shift_and_log_scale_fn=shift_log_scale),
      "SplineCoupling": lambda: tfb.RealNVP(num_masked=m, bijector_fn=spline_fn),
      "MaskedAffine(MAF)": maf,
      "MaskedAffine(IAF)": lambda: tfb.Invert(maf()),
      "SplineAutoregressive": lambda: tfb.MaskedAutoregressiveFlow(
          bijector_fn=lambda x: tfb.Invert(rational_quadratic_spline(
              spline_made(x), BINS, 3.0, hidden))),
      "ActNorm": lambda: tfb.Chain([tfb.Shift(tf.zeros([d])), tfb.Scale(log_scale=tf.zeros([d]))]),
      "BatchNorm": lambda: tfb.BatchNormalization(batchnorm_layer=bn, training=False),
  }


def ours(d, hidden):
  """Factories of tfp_flows' steps (unconditional, float32)."""
  steps = {
      "AffineCoupling": L.AffineCoupling(d, hidden=(hidden, hidden)),
      "SplineCoupling": L.SplineCoupling(d, num_bins=BINS, hidden=(hidden, hidden)),
      "AdditiveCoupling": L.AdditiveCoupling(d, hidden=(hidden, hidden)),
      "MaskedAffine(MAF)": L.MaskedAffine(d, hidden_units=hidden),
      "MaskedAffine(IAF)": L.MaskedAffine(d, inverse=True, hidden_units=hidden),
      "SplineAutoregressive": L.SplineAutoregressive(d, num_bins=BINS, hidden_units=hidden,
                                                     num_blocks=1, residual=False),
      "Permutation": L.Permutation(d),
      "LULinear": L.LULinear(d),
      "Householder": L.Householder(d),
      "ActNorm": L.ActNorm(d),
      "BatchNorm": L.BatchNorm(d),
      "Scaling": L.Scaling(d),
      "Planar": L.Planar(d),
      "Radial": L.Radial(d),
  }
  return {name: step.bijector for name, step in steps.items()}


def sampling(d, hidden, repeats, num_steps=5, n=1000):
  """ms for `n` draws from a `num_steps`-step MAF at D = d: tfp_flows vs TFP."""
  flow = L.Flow([L.MaskedAffine(d, hidden_units=hidden) for _ in range(num_steps)], d)
  nets = [tfb.AutoregressiveNetwork(params=2, event_shape=[d], hidden_units=[hidden] * 2)
          for _ in range(num_steps)]
  base = tfd.Sample(tfd.Normal(0.0, 1.0), d)

  def tfp_dist():
    return tfd.TransformedDistribution(base, tfb.Chain(
        [tfb.MaskedAutoregressiveFlow(shift_and_log_scale_fn=net) for net in nets]))

  @tf.function(autograph=False)
  def ours_fn(seed):
    return flow.distribution().sample(n, seed=seed)

  @tf.function(autograph=False)
  def tfp_fn(seed):
    return tfp_dist().sample(n, seed=seed)

  return median_ms({"tfp_flows": ours_fn, "tfp": tfp_fn}, tf.constant([3, 4]), repeats)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--repeats", type=int, default=11)
  parser.add_argument("--hidden", type=int, default=64)
  args = parser.parse_args()
  tf.random.set_seed(0)
  rows = []
  for d in (2, 64):
    theirs = tfp_equivalents(d, args.hidden)
    for name, make in ours(d, args.hidden).items():
      makers = {"tfp_flows_ms": make}
      if name in theirs:
        makers["tfp_ms"] = theirs[name]
      rows.append({"step": name, "D": d, **directions(makers, d, args.repeats)})
  print(json.dumps({
      "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
      "batch": BATCH, "hidden": args.hidden, "repeats": args.repeats,
      "tensorflow": tf.__version__, "tfp": tfp.__version__,
      "steps": rows,
      "sample_1000_maf5_d64_ms": sampling(64, args.hidden, args.repeats),
  }, indent=1))


if __name__ == "__main__":
  main()
