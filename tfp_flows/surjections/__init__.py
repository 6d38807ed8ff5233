"""Surjective and stochastic layers of SurVAE Flows (Nielsen et al. 2020) as distribution wrappers.

Each `*Distribution` is a `tfd.Distribution` over x wrapping an inner
distribution over z (pure TFP, no variables); each Keras layer owns the learned
parts and returns its wrapper with `layer.distribution(inner, context=None)`.
Direction: TFP's; `sample` is latent -> data, `log_prob` data -> latent (the
paper's "forward"). `is_exact` tells exact log-densities from one-sample bounds.
"""
from tfp_flows.surjections.abs import Abs, AbsDistribution
from tfp_flows.surjections.augment import Augment, AugmentDistribution
from tfp_flows.surjections.base import SurjectiveDistribution, is_exact
from tfp_flows.surjections.conditional import ConditionalLocScale
from tfp_flows.surjections.dequantization import (
    DequantizationDistribution, UniformDequantization, VariationalDequantization)
from tfp_flows.surjections.max import Max, MaxDistribution
from tfp_flows.surjections.maxpool import MaxPool2D, blocks_to_image
from tfp_flows.surjections.permutation import StochasticPermutationDistribution
from tfp_flows.surjections.slice import Slice, SliceDistribution
from tfp_flows.surjections.sort import SortDistribution
from tfp_flows.surjections.vae import VAE, VAEDistribution
