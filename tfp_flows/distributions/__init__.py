"""Distributions TFP lacks, as functions returning `tfd.Distribution` objects."""
from tfp_flows.distributions.exponential_family import quadratic_exponential_family
