"""tfp_flows.metrics."""
from tfp_flows.metrics.mcc import mean_corr_coef
