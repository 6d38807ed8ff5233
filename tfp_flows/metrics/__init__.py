"""tfp_flows.metrics."""
