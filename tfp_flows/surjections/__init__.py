"""tfp_flows.surjections."""
