"""Keras 3 layers: trainable networks, flow steps and surjection layers (`layers/surjections/`) that return TFP objects."""
from tfp_flows.layers.dense import Dense
from tfp_flows.layers.step import FlowStep, check_context
from tfp_flows.layers.made import MADE
from tfp_flows.layers.mlp import MLP
from tfp_flows.layers.spline_autoregressive import SplineAutoregressive
from tfp_flows.layers.lu_linear import LULinear
from tfp_flows.layers.permutation import Permutation
from tfp_flows.layers.exponential_family_prior import ExponentialFamilyPrior
from tfp_flows.layers.flow import Flow, chain
from tfp_flows.layers.affine_coupling import AffineCoupling
from tfp_flows.layers.spline_coupling import SplineCoupling
from tfp_flows.layers.masked_affine import MaskedAffine
from tfp_flows.layers.householder import Householder
from tfp_flows.layers.actnorm import ActNorm
from tfp_flows.layers.batch_norm import BatchNorm
from tfp_flows.layers.planar import Planar
from tfp_flows.layers.radial import Radial
from tfp_flows.layers.additive_coupling import AdditiveCoupling
from tfp_flows.layers.scaling import Scaling
from tfp_flows.layers.weight_norm import WeightNorm
from tfp_flows.layers.resnet import ResNetBlock, ResNetDecoder, ResNetEncoder
from tfp_flows.layers.surjections import (
    VAE, Abs, Augment, ChannelSlice, ConditionalLocScale, Max, MaxPool2D, MaxPool2DOverlap,
    Slice, UniformDequantization, VariationalDequantization)
from tfp_flows.layers.summary import SummaryNetwork
from tfp_flows.layers.set_transformer import SetTransformer
from tfp_flows.layers.transformer_coupling import TransformerCoupling
from tfp_flows.layers.conv_conditioner import ConvConditioner
from tfp_flows.layers.conv_affine_coupling import ConvAffineCoupling
from tfp_flows.layers.conv_spline_coupling import ConvSplineCoupling
