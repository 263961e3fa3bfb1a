from .frozen_backbone_segmentor import FrozenBackboneSegmentor

__all__ = ['FrozenBackboneSegmentor']
