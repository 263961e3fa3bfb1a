from .base_uss_head import BaseUSSHead
from .cluster_probe_head import ClusterProbeHead
from .stego_head import StegoHead

__all__ = ['BaseUSSHead', 'ClusterProbeHead', 'StegoHead']
