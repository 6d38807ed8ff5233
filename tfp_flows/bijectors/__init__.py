"""Bijectors TFP lacks, as `tfb.Bijector` subclasses (forward: latent -> data)."""
from tfp_flows.bijectors.masked_autoregressive import MaskedAutoregressive
from tfp_flows.bijectors.data_affine import DataAffine
from tfp_flows.bijectors.planar import Planar
from tfp_flows.bijectors.radial import Radial
from tfp_flows.bijectors.rational_quadratic_spline import RationalQuadraticSpline
from tfp_flows.bijectors.ascending_column import ascending_column
from tfp_flows.bijectors.squeeze import Squeeze
from tfp_flows.bijectors.masked_coupling import MaskedCoupling
