"""SIR simulator: Euler against scipy's solve_ivp, shapes, likelihood, bad input."""
import numpy as np
import pytest
import tensorflow as tf
from scipy.integrate import solve_ivp
from scipy.stats import poisson

from tfp_flows.simulators import SIR


def _ode_fractions(lam, mu, i0, days):
  """S and R at t = 1..days from an independent adaptive solver (RK45, tight tolerance)."""
  rhs = lambda t, y: [-lam * y[0] * y[1], lam * y[0] * y[1] - mu * y[1], mu * y[1]]
  sol = solve_ivp(rhs, (0, days), [1 - i0, i0, 0.0], t_eval=np.arange(1, days + 1),
                  rtol=1e-10, atol=1e-12)
  return sol.y[0], sol.y[2]


def _euler_fractions(task, lam, mu):
  daily = task.trajectory(tf.constant([[lam, mu]], tf.float64)).numpy()[0]
  return 1 - task.initial_infected - np.cumsum(daily[:, 0]), np.cumsum(daily[:, 1])


def test_euler_matches_solve_ivp_with_first_order_error():
  lam, mu, days = 0.5, 0.125, 100
  s_ref, r_ref = _ode_fractions(lam, mu, 0.01, days)
  errors = []
  for dt in (0.1, 0.05):
    task = SIR(dt=dt, dtype=tf.float64)
    s, r = _euler_fractions(task, lam, mu)
    errors.append(max(np.abs(s - s_ref).max(), np.abs(r - r_ref).max()))
  # Euler's global error is O(dt): a few 1e-2 at dt = 0.1, halving with dt.
  assert errors[0] < 0.03, errors
  assert 1.7 < errors[0] / errors[1] < 2.3, errors


def test_shapes_prior_and_degenerate_product():
  task = SIR("degenerate")
  theta = task.prior().sample([3, 4], seed=1)
  assert theta.shape == (3, 4, 3)
  x = task.simulate(theta, seed=2)
  assert x.shape == (3, 4, 100, 2) and np.all(x.numpy() >= 0)
  assert task.log_likelihood(x, theta).shape == (3, 4)
  basic = SIR("basic")
  lam = theta[..., 0] * theta[..., 1]
  np.testing.assert_allclose(
      task.trajectory(theta).numpy(),
      basic.trajectory(tf.stack([lam, theta[..., 2]], -1)).numpy(), rtol=1e-6)


def test_log_likelihood_is_independent_poisson():
  task = SIR(days=20, dtype=tf.float64)
  theta = tf.constant([0.6, 0.2], tf.float64)
  x = task.simulate(theta, seed=3)
  mean = task.population * task.trajectory(theta).numpy()
  expected = poisson.logpmf(x.numpy(), mean).sum()
  np.testing.assert_allclose(task.log_likelihood(x, theta).numpy(), expected, rtol=1e-10)


@pytest.mark.parametrize("kwargs, match", [
    (dict(variant="seir"), "variant"), (dict(population=0.0), "population"),
    (dict(population=-5.0), "population"), (dict(initial_infected=0.0), "initial_infected"),
    (dict(dt=0.3), "dt"), (dict(days=0), "days")])
def test_bad_configuration(kwargs, match):
  with pytest.raises(ValueError, match=match):
    SIR(**kwargs)


def test_bad_parameters_and_observations():
  task = SIR()
  x = np.zeros((100, 2))
  with pytest.raises(ValueError, match="theta.*support"):
    task.simulate([[0.4, -0.1]])
  with pytest.raises(ValueError, match="theta.*support"):
    task.log_likelihood(x, [0.4, np.nan])
  with pytest.raises(ValueError, match=r"theta.*\[\.\.\., 2\]"):
    task.simulate([0.4, 0.1, 0.2])
  with pytest.raises(ValueError, match=r"x.*\[\.\.\., 100, 2\]"):
    task.log_likelihood(np.zeros((99, 2)), [0.4, 0.1])
  bad = x.copy()
  bad[3, 1] = np.nan
  with pytest.raises(ValueError, match="NaN"):
    task.log_likelihood(bad, [0.4, 0.1])
