"""Keras 3 layers of SurVAE flows (Nielsen et al. 2020): each owns the learned parts of one surjection.

Each layer returns its pure-TFP distribution wrapper from `tfp_flows.surjections`
with `layer.distribution(inner, context=None)`, on top of an inner distribution
over the latent z. Context rule (shared with the flow steps,
`tfp_flows.layers.flow.check_context`): a layer built with `context_size=C`
needs a context `[..., C]`; a layer without one (`context_size=None`, and
always `Max`, `MaxPool2D`, `MaxPool2DOverlap`, `UniformDequantization`) rejects a context with a
ValueError. All are also importable from `tfp_flows.layers`.
"""
from tfp_flows.layers.surjections.abs import Abs
from tfp_flows.layers.surjections.augment import Augment
from tfp_flows.layers.surjections.channel_slice import ChannelSlice
from tfp_flows.layers.surjections.conditional import ConditionalLocScale
from tfp_flows.layers.surjections.max import Max
from tfp_flows.layers.surjections.maxpool import MaxPool2D
from tfp_flows.layers.surjections.maxpool_overlap import MaxPool2DOverlap
from tfp_flows.layers.surjections.slice import Slice
from tfp_flows.layers.surjections.uniform_dequantization import UniformDequantization
from tfp_flows.layers.surjections.vae import VAE
from tfp_flows.layers.surjections.variational_dequantization import VariationalDequantization
