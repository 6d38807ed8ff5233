"""Simulators with tractable likelihoods for simulation-based inference, and reference posteriors."""
from tfp_flows.simulators.sir import SIR, VARIANTS
from tfp_flows.simulators.reference import Reference, sample_posterior, sir_reference
from tfp_flows.simulators.dataset import simulation_dataset
