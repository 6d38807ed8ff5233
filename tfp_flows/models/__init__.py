"""tfp_flows.models."""
