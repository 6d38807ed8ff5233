"""docs/tfp_usage.md runs as written, and its TFP workflows give the right numbers.

The page's Python blocks are executed once, in order, in one namespace (a
module-scoped fixture); each test then checks one workflow against a known
answer: VI with a flow surrogate against the target's log-normaliser,
NeuTra HMC against the exact posterior mean within Monte Carlo error, a
conditional flow as the likelihood of a `tfd.JointDistributionNamed`
against the exact posterior mean, and a `tf.saved_model` round trip of the
trained distribution.
"""
import pathlib
import re

import numpy as np
import pytest

PAGE = pathlib.Path(__file__).resolve().parents[1] / "docs" / "tfp_usage.md"


@pytest.fixture(scope="module")
def page():
  blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)
  assert len(blocks) == 4, f"expected 4 python blocks in {PAGE}, found {len(blocks)}"
  namespace = {}
  for i, block in enumerate(blocks):
    exec(compile(block, f"{PAGE.name}[block {i}]", "exec"), namespace)  # pylint: disable=exec-used
  return namespace


def test_vi_with_a_flow_surrogate_finds_the_log_normaliser(page):
  log_z_true, elbo, log_z = page["LOG_Z"], float(page["elbo"]), float(page["log_z"])
  assert len(page["surrogate"].trainable_variables) == 12  # two MADEs of 3 layers, no extras
  assert log_z_true - 0.1 < elbo < log_z_true + 0.01, (elbo, log_z_true)  # a lower bound
  assert abs(log_z - log_z_true) < 0.03, (log_z, log_z_true)


def test_neutra_hmc_recovers_the_posterior_mean(page):
  mean, std_error = page["mean"].numpy(), page["std_error"].numpy()
  assert np.all(np.abs(mean - [0.0, 0.5]) < 4 * std_error), (mean, std_error)
  assert float(np.mean(page["accepted"])) > 0.6


def test_conditional_flow_as_a_joint_distribution_likelihood(page):
  assert abs(page["flow_mean"] - page["exact_mean"]) < 0.05, (page["flow_mean"],
                                                              page["exact_mean"])


def test_saved_model_reload_gives_the_same_log_prob(page):
  points = page["points"]
  np.testing.assert_allclose(page["reloaded"].log_prob(points),
                             page["surrogate"].log_prob(points + 0.0), rtol=1e-5, atol=1e-5)
