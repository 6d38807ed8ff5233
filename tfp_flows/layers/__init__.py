"""Keras 3 layers: trainable networks and flow steps that return TFP objects."""
from tfp_flows.layers.dense import Dense
from tfp_flows.layers.made import MADE
from tfp_flows.layers.mlp import MLP
from tfp_flows.layers.spline_autoregressive import SplineAutoregressive
