"""Simulators with tractable likelihoods for simulation-based inference, and reference posteriors."""
from tfp_flows.simulators.sir import SIR, VARIANTS
