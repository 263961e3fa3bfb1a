"""DINO (v1) ViT backbone, numerically the official ``facebookresearch/dino`` model."""
from typing import Tuple

import torch.nn as nn
from mmseg.registry import MODELS
from torch import Tensor

from .vit.layers import interpolate_dino_pos_embed
from .base_dino_vit import BaseDinoViT


@MODELS.register_module()
class DinoVisionTransformer(BaseDinoViT):
    """DINO ViT (Caron et al., 2021): ViT-S/16, S/8, B/16, B/8 (and Ti).

    Follows ``facebookresearch/dino`` ``vision_transformer.py``: pre-norm
    blocks with qkv bias, GELU MLP of ratio 4, LayerNorm eps 1e-6, no layer
    scale, 224-px pretraining grid. Position embeddings are interpolated as
    DINO's ``interpolate_pos_encoding`` does: bicubic with the scale factors
    ``(h + 0.1)/M, (w + 0.1)/M`` (not a target size), no antialiasing,
    computed in the parameter dtype; unchanged when the grid is the
    pretraining grid and the input is square. Official checkpoints
    (``*_pretrain.pth``, full ``teacher``/``student`` checkpoints) load
    strictly through ``init_cfg=dict(type='Pretrained', checkpoint=...)``.

    See :class:`BaseDinoViT` for the arguments and outputs.
    """

    family = 'DINO'
    default_arch = 'small'
    default_patch_size = 16
    default_img_size = 224
    supports_registers = False
    arch_zoo = {
        'tiny': dict(embed_dims=192, num_layers=12, num_heads=3),
        'small': dict(embed_dims=384, num_layers=12, num_heads=6),
        'base': dict(embed_dims=768, num_layers=12, num_heads=12),
    }

    def random_init(self) -> None:
        super().random_init()
        nn.init.trunc_normal_(self.cls_token, std=0.02)

    def position_embedding(self, tokens: Tensor, image_hw: Tuple[int, int]) -> Tensor:
        return interpolate_dino_pos_embed(self.pos_embed, image_hw, self.patch_size, offset=0.1)
