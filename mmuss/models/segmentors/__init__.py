from .frozen_backbone_segmentor import FrozenBackboneSegmentor
from .mask_contrast import MaskContrast
from .multi_view_segmentor import MultiViewSegmentor

__all__ = ['FrozenBackboneSegmentor', 'MaskContrast', 'MultiViewSegmentor']
