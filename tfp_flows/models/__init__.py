"""Keras 3 models trained with `model.fit`."""
from tfp_flows.models.iflow import IFlow
from tfp_flows.models.ivae import IVAE
from tfp_flows.models.stacked import PerModelReduceLROnPlateau, StackedAdam
from tfp_flows.models.vae import BernoulliVAE
from tfp_flows.models.dlgm import DLGM
from tfp_flows.models.iaf_vae import IAFVAE
from tfp_flows.models.image_flow import ImageFlow
from tfp_flows.models.image_flow_configs import CONFIGS as IMAGE_FLOW_CONFIGS
