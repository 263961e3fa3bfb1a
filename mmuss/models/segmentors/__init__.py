from .frozen_backbone_segmentor import FrozenBackboneSegmentor
from .multi_view_segmentor import MultiViewSegmentor

__all__ = ['FrozenBackboneSegmentor', 'MultiViewSegmentor']
