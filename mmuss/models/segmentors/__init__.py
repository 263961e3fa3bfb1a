from .frozen_backbone_segmentor import FrozenBackboneSegmentor
from .maskcontrast import MaskContrast

__all__ = ['FrozenBackboneSegmentor', 'MaskContrast']
