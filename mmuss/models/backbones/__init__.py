from .dino_vision_transformer import DinoVisionTransformer
from .dinov2_vision_transformer import DinoV2VisionTransformer
from .dinov3_vision_transformer import DinoV3VisionTransformer
from .frozen_code_backbone import FrozenCodeBackbone

__all__ = [
    'DinoV2VisionTransformer', 'DinoV3VisionTransformer', 'DinoVisionTransformer',
    'FrozenCodeBackbone'
]
