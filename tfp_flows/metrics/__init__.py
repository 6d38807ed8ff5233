"""tfp_flows.metrics."""
from tfp_flows.metrics.mcc import match_sources, mean_corr_coef
from tfp_flows.metrics.likelihood import bits_per_dim, elbo, log_likelihood
from tfp_flows.metrics.calibration import expected_coverage, sbc_ranks, sbc_uniformity
from tfp_flows.metrics.c2st import c2st
