"""Keras 3 layers: trainable networks and flow steps that return TFP objects."""
from tfp_flows.layers.dense import Dense
from tfp_flows.layers.made import MADE
from tfp_flows.layers.mlp import MLP
from tfp_flows.layers.spline_autoregressive import SplineAutoregressive
from tfp_flows.layers.lu_linear import LULinear
from tfp_flows.layers.permutation import Permutation
