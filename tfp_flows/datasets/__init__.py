"""tfp_flows.datasets."""
from tfp_flows.datasets.nonstationary import load_nonstationary
from tfp_flows.datasets.nonstationary import nonstationary_sources
from tfp_flows.datasets.toy2d import load_toy2d, toy2d
