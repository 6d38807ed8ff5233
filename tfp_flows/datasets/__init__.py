"""tfp_flows.datasets."""
