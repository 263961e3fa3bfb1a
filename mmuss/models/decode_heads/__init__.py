from . import primaps  # noqa: F401  (registers PrimapsProposer)
from .base_uss_head import BaseUSSHead
from .cause_mediator_head import CauseMediatorHead
from .cause_mlp_head import CauseMLPHead
from .cause_tr_head import CauseTRHead
from .cluster_probe_head import ClusterProbeHead
from .hp_head import HPHead
from .maskcontrast_head import MaskContrastHead
from .primaps_em_head import PrimapsEMHead
from .stego_head import StegoHead

__all__ = [
    'BaseUSSHead', 'CauseMediatorHead', 'CauseMLPHead', 'CauseTRHead', 'ClusterProbeHead', 'HPHead',
    'MaskContrastHead', 'PrimapsEMHead', 'StegoHead'
]
