from .dino_vision_transformer import DinoVisionTransformer
from .dinov2_vision_transformer import DinoV2VisionTransformer

__all__ = ['DinoVisionTransformer', 'DinoV2VisionTransformer']
