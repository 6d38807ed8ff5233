"""tfp_flows.datasets."""
from tfp_flows.datasets.nonstationary import load_nonstationary
from tfp_flows.datasets.nonstationary import nonstationary_sources
