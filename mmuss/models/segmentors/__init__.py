from .frozen_backbone_segmentor import FrozenBackboneSegmentor
from .mask_contrast import MaskContrast

__all__ = ['FrozenBackboneSegmentor', 'MaskContrast']
