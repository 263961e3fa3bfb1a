from .dino_vision_transformer import DinoVisionTransformer
from .dinov2_vision_transformer import DinoV2VisionTransformer
from .frozen_code_backbone import FrozenCodeBackbone

__all__ = ['DinoV2VisionTransformer', 'DinoVisionTransformer', 'FrozenCodeBackbone']
