"""DINOv2 ViT backbone, numerically the official ``facebookresearch/dinov2`` hub models."""
from typing import Optional, Tuple

import torch.nn as nn
from mmseg.registry import MODELS
from torch import Tensor

from .vit.layers import interpolate_dino_pos_embed
from .base_dino_vit import BaseDinoViT


@MODELS.register_module()
class DinoV2VisionTransformer(BaseDinoViT):
    """DINOv2 ViT (Oquab et al., 2023): ViT-S/14, B/14, L/14, g/14, each with or without registers.

    Follows the ``facebookresearch/dinov2`` hub models (``hub/backbones.py``
    and ``models/vision_transformer.py`` of the release with registers,
    late 2023 onwards): 518-px pretraining grid (37×37), LayerScale on both
    residual branches, GELU MLP (SwiGLU FFN of hidden width 4096 for giant),
    LayerNorm eps 1e-6, an unused ``mask_token`` parameter, and
    ``num_register_tokens`` registers inserted after the class token *after*
    the position embeddings were added.

    Position-embedding interpolation is the hub's ``interpolate_pos_encoding``:
    computed in float32 and cast to the token dtype, unchanged when the grid is
    the pretraining grid and the input square; otherwise bicubic with

    - the original models (no registers): scale factors ``(h + 0.1)/37,
      (w + 0.1)/37``, no antialiasing (``interpolate_offset=0.1``,
      ``interpolate_antialias=False``). The first DINOv2 release (Apr 2023)
      wrote the same call as DINO v1's ``scale_factor=(w0 + 0.1)/sqrt(N)``,
      identical in float32;
    - the register models: size-based resizing to ``(h, w)`` with
      antialiasing (``interpolate_offset=0.0``, ``interpolate_antialias=True``).

    ``interpolate_offset`` / ``interpolate_antialias`` default to these
    per-model settings and can be overridden.

    See :class:`BaseDinoViT` for the other arguments and the outputs.
    """

    family = 'DINOv2'
    default_patch_size = 14
    default_img_size = 518
    default_layer_scale = True
    has_mask_token = True
    arch_zoo = {
        'small': dict(embed_dims=384, num_layers=12, num_heads=6),
        'base': dict(embed_dims=768, num_layers=12, num_heads=12),
        'large': dict(embed_dims=1024, num_layers=24, num_heads=16),
        'giant': dict(embed_dims=1536, num_layers=40, num_heads=24, ffn_type='swiglu'),
    }

    def __init__(self, *args, interpolate_offset: Optional[float] = None,
                 interpolate_antialias: Optional[bool] = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        regs = self.num_register_tokens
        self.interpolate_offset = (
            (0.0 if regs else 0.1) if interpolate_offset is None else interpolate_offset)
        self.interpolate_antialias = (
            bool(regs) if interpolate_antialias is None else interpolate_antialias)

    def random_init(self) -> None:
        super().random_init()
        nn.init.normal_(self.cls_token, std=1e-6)
        if self.register_tokens is not None:
            nn.init.normal_(self.register_tokens, std=1e-6)

    def position_embedding(self, tokens: Tensor, image_hw: Tuple[int, int]) -> Tensor:
        pos_embed = self.pos_embed.float()
        resized = interpolate_dino_pos_embed(pos_embed, image_hw, self.patch_size,
                                             offset=self.interpolate_offset,
                                             antialias=self.interpolate_antialias)
        return self.pos_embed if resized is pos_embed else resized.to(tokens.dtype)
