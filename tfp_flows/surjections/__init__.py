"""Surjective and stochastic layers of SurVAE Flows (Nielsen et al. 2020) as distribution wrappers.

Pure TFP math: each `*Distribution` is a `tfd.Distribution` over x wrapping an
inner distribution over z, with no Keras and no variables of its own (a test
checks that this package imports neither Keras nor `tfp_flows.layers`). The
Keras layers that own the learned parts (`Abs`, `Augment`, `Slice`,
`ChannelSlice`, `Max`, `MaxPool2D`, `MaxPool2DOverlap`, `UniformDequantization`,
`VariationalDequantization`, `VAE`, `ConditionalLocScale`) live in `tfp_flows/layers/surjections/` and are
imported from `tfp_flows.layers`; each returns its wrapper with
`layer.distribution(inner, context=None)`.
Direction: TFP's; `sample` is latent -> data, `log_prob` data -> latent (the
paper's "forward"). `is_exact` tells exact log-densities from one-sample bounds
(`base.likelihood` gives the contract: "exact", "bound" or "approximate").
"""
from tfp_flows.surjections.abs import AbsDistribution
from tfp_flows.surjections.augment import AugmentDistribution
from tfp_flows.surjections.base import SurjectiveDistribution, is_exact
from tfp_flows.surjections.dequantization import DequantizationDistribution
from tfp_flows.surjections.max import MaxDistribution
from tfp_flows.surjections.maxpool import blocks_to_image, max_pool_distribution
from tfp_flows.surjections.maxpool_overlap import OverlappingMaxPoolDistribution, pooling_windows
from tfp_flows.surjections.permutation import StochasticPermutationDistribution
from tfp_flows.surjections.slice import SliceDistribution
from tfp_flows.surjections.sort import SortDistribution
from tfp_flows.surjections.vae import VAEDistribution
