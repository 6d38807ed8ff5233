"""Keras 3 models trained with `model.fit`."""
from tfp_flows.models.iflow import IFlow
from tfp_flows.models.ivae import IVAE
from tfp_flows.models.stacked import PerModelReduceLROnPlateau, StackedAdam
from tfp_flows.models.vae import BernoulliVAE
from tfp_flows.models.dlgm import DLGM
from tfp_flows.models.iaf_vae import IAFVAE
from tfp_flows.models.flow_vi import FlowVI
from tfp_flows.models.survae_flow import SurVAEFlow
from tfp_flows.models.npe import NPE
from tfp_flows.models.permute_flow import PermuteFlow
from tfp_flows.models.sort_flow import SortFlow
from tfp_flows.models.iid_set_flow import IIDSetFlow
from tfp_flows.models.image_flow import ImageFlow
from tfp_flows.models.image_flow_configs import CONFIGS as IMAGE_FLOW_CONFIGS
