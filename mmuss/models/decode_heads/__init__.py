from .base_uss_head import BaseUSSHead
from .cluster_probe_head import ClusterProbeHead

__all__ = ['BaseUSSHead', 'ClusterProbeHead']
