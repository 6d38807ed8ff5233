"""Where one paper-size iFlow training step spends its graph: node counts by component.

Traces (does not time) the two single-model training steps of `iflow_train_step.py`, TFP's
built-in flow (`tfb.MaskedAutoregressiveFlow` + `tfb.RationalQuadraticSpline`) and tfp_flows'
`IFlow` (XLA off, so the graph is the TensorFlow one XLA receives), and counts the graph's
nodes by the component whose name scope they sit in, forward and gradient together:
spline, dropout mask, conditioner network (MADE / AutoregressiveNetwork), LU layers,
permutations, prior, optimizer update, other. Node counts do not depend on the load, so this
runs on a busy machine; it is the profile behind the iFlow rows of docs/benchmarks.md (with XLA
on a CPU, one model's step is bound by the number of small ops, so the count is the cost model).

Prints one JSON object. Usage: python benchmarks/iflow_graph_profile.py
"""
import collections
import json
import os

import numpy as np

import iflow_train_step as bench

# First match wins: a dropout mask inside MADE counts as dropout, a spline inside MAF as spline.
COMPONENTS = [
    ("optimizer", ("adam",)),
    ("dropout", ("stateless_random", "dropout")),
    ("spline", ("rational_quadratic_spline", "rationalquadraticspline")),
    ("lu", ("lu_solve", "scalematveclu", "lu_linear", "matvec_lu")),
    ("permutation", ("permute", "permutation")),
    ("conditioner", ("made", "dense", "autoregressive_network", "masked_autoregressive")),
    ("prior", ("quadraticexponentialfamily", "normal", "mlp", "sequential")),
]


def component(node_name):
  """The component of a graph node, from the innermost recognised name-scope segment.

  A `tfb.Chain`'s scope spells every member's name (`chain_of_permutation_of_lu_...`), so
  segments that long say nothing about the node and are skipped.
  """
  for segment in reversed(node_name.lower().split("/")):
    if len(segment) > 60:
      continue
    for name, keys in COMPONENTS:
      if any(k in segment for k in keys):
        return name
  return "other"


def profile(step):
  """Node counts of `step`'s graph by component (dict, largest first), and the total."""
  x, u = bench.data(1)
  nodes = step.get_concrete_function(x, u).graph.as_graph_def().node
  counts = collections.Counter(component(n.name) for n in nodes)
  return dict(counts.most_common()), len(nodes)


def main():
  variants = {"tfp_builtin": bench.tfp_builtin(np.random.default_rng(0))[0],
              "tfp_flows": bench.tfp_flows_step(1, jit=False)[0]}
  result = {"benchmark": "iflow_graph_profile", "nodes_by_component": {}, "nodes": {}}
  for name, step in variants.items():
    result["nodes_by_component"][name], result["nodes"][name] = profile(step)
  result["load_average_1min"] = round(os.getloadavg()[0], 2)
  print(json.dumps(result))


if __name__ == "__main__":
  main()
