"""Energies U1-U4 against a direct NumPy transcription; log Z finite and grid-stable."""
import numpy as np
import pytest
import tensorflow as tf

from tfp_flows import targets


def _numpy_energies(z):
  z1, z2 = z[..., 0], z[..., 1]
  w1 = np.sin(2 * np.pi * z1 / 4)
  w2 = 3 * np.exp(-0.5 * ((z1 - 1) / 0.6) ** 2)
  w3 = 3 / (1 + np.exp(-(z1 - 1) / 0.3))
  return {
      "U1": 0.5 * ((np.linalg.norm(z, axis=-1) - 2) / 0.4) ** 2
            - np.log(np.exp(-0.5 * ((z1 - 2) / 0.6) ** 2) + np.exp(-0.5 * ((z1 + 2) / 0.6) ** 2)),
      "U2": 0.5 * ((z2 - w1) / 0.4) ** 2,
      "U3": -np.log(np.exp(-0.5 * ((z2 - w1) / 0.35) ** 2)
                    + np.exp(-0.5 * ((z2 - w1 + w2) / 0.35) ** 2)),
      "U4": -np.log(np.exp(-0.5 * ((z2 - w1) / 0.4) ** 2)
                    + np.exp(-0.5 * ((z2 - w1 + w3) / 0.35) ** 2)),
  }


@pytest.mark.parametrize("name", ["U1", "U2", "U3", "U4"])
def test_matches_numpy_transcription(name):
  z = np.random.default_rng(0).uniform(-4, 4, size=(3, 50, 2))
  energy = targets.ENERGIES[name]
  out = energy(z)
  assert isinstance(out, np.ndarray) and out.shape == (3, 50)
  np.testing.assert_allclose(out, _numpy_energies(z)[name], rtol=1e-10, atol=1e-10)
  tensor_out = tf.function(energy)(tf.constant(z, tf.float32))
  assert tf.is_tensor(tensor_out) and tensor_out.dtype == tf.float32
  np.testing.assert_allclose(tensor_out, out, rtol=1e-4, atol=1e-4)


def test_stable_far_from_modes_and_at_origin():
  far = np.array([[30.0, -30.0], [0.0, 0.0]])
  for energy in targets.ENERGIES.values():
    assert np.all(np.isfinite(energy(far)))
  z = tf.zeros((1, 2), tf.float64)
  with tf.GradientTape() as tape:
    tape.watch(z)
    u = targets.U1(z)
  assert np.all(np.isfinite(tape.gradient(u, z)))
  with pytest.raises(ValueError, match=r"\[\.\.\., 2\]"):
    targets.U1(np.zeros((4, 3)))


@pytest.mark.parametrize("name", ["U1", "U2", "U3", "U4"])
def test_log_normalizer_stable_under_refinement(name):
  energy = targets.ENERGIES[name]
  coarse, fine = targets.log_normalizer(energy, num=401), targets.log_normalizer(energy, num=801)
  assert np.isfinite(fine) and abs(coarse - fine) < 1e-5


def test_log_normalizer_known_values():
  # U2 on [-4, 4]^2: the z2 integral is ~0.4 sqrt(2 pi) for every z1 (tails beyond +-4 are < 1e-9).
  np.testing.assert_allclose(targets.log_normalizer(targets.U2, num=801),
                             np.log(8 * 0.4 * np.sqrt(2 * np.pi)), atol=1e-6)
  # U1 keeps all its mass inside [-4, 4]^2: a larger box changes nothing.
  np.testing.assert_allclose(targets.log_normalizer(targets.U1, bound=6.0, num=1201),
                             targets.log_normalizer(targets.U1, num=801), atol=1e-6)


def test_confined_is_unchanged_inside_and_normalisable():
  z = np.random.default_rng(1).uniform(-4, 4, size=(100, 2))
  confined = targets.confined(targets.U2, bound=4.0, width=0.1)
  np.testing.assert_array_equal(confined(z), targets.U2(z))
  np.testing.assert_allclose(confined(np.array([[5.0, 0.0]])),
                             targets.U2(np.array([[5.0, 0.0]])) + 1.0 / (2 * 0.01))
  # U2's z2 integral 0.4 sqrt(2 pi) times the z1 extent 8 plus the two walls' 0.1 sqrt(pi / 2) each.
  expected = np.log(0.4 * np.sqrt(2 * np.pi) * (8 + 2 * 0.1 * np.sqrt(np.pi / 2)))
  np.testing.assert_allclose(targets.log_normalizer(confined, bound=5.0, num=2501), expected,
                             atol=1e-5)
