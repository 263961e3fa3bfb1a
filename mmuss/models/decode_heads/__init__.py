from .base_uss_head import BaseUSSHead
from .cluster_probe_head import ClusterProbeHead
from .hp_head import HPHead
from .mask_contrast_head import MaskContrastHead
from .primaps_em_head import PrimapsEMHead
from .stego_head import StegoHead

__all__ = [
    'BaseUSSHead', 'ClusterProbeHead', 'HPHead', 'MaskContrastHead', 'PrimapsEMHead', 'StegoHead'
]
