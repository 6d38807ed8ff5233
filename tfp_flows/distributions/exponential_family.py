"""The factorised quadratic exponential family used as iFlow's conditional prior."""
import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions


def quadratic_exponential_family(xi, eta, name="QuadraticExponentialFamily"):
  """p(z) = prod_j exp(-xi_j z_j^2 + eta_j z_j - A(xi_j, eta_j)), as a TFP distribution.

  Each factor has sufficient statistics (z^2, z) and natural parameters
  (-xi, eta) (iFlow, Li, Hooi & Lee 2019, Sec. 3, eq. 7). Its log-normaliser
  is A = eta^2 / (4 xi) + (1/2) log(pi / xi), so the whole prior's carries the
  constant (n/2) log pi and `log_prob` is the exact log-density in nats. The
  family is the Gaussian with mean eta / (2 xi) and variance 1 / (2 xi),
  which is how it is evaluated (TFP's `tfd.Normal`), exactly.

  Args:
    xi: `[..., n]` positive coefficients of -z^2.
    eta: `[..., n]` coefficients of z.
    name: name of the distribution.

  Returns:
    `tfd.Independent` over `tfd.Normal` with event shape `[n]`.
  """
  xi = tf.convert_to_tensor(xi)
  eta = tf.convert_to_tensor(eta, dtype=xi.dtype)
  return tfd.Independent(
      tfd.Normal(loc=eta / (2 * xi), scale=tf.math.rsqrt(2 * xi)),
      reinterpreted_batch_ndims=1, name=name)
