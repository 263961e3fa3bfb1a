from . import backbones, decode_heads, losses, segmentors  # noqa: F401
from .utils import BackboneOutput, ClusterProbe, LinearProbe

__all__ = ['BackboneOutput', 'ClusterProbe', 'LinearProbe']
