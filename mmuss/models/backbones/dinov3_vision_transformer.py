"""DINOv3 ViT backbone, numerically the official ``facebookresearch/dinov3`` hub models."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmseg.registry import MODELS
from torch import Tensor

from .vit.rope import RopePositionEmbedding
from .vit.layers import LayerScale
from .base_dino_vit import BaseDinoViT, Rope


@MODELS.register_module()
class DinoV3VisionTransformer(BaseDinoViT):
    """DINOv3 ViT (Siméoni et al., 2025): ViT-S/16, S+/16, B/16, L/16, H+/16 and 7B/16.

    Follows ``dinov3/hub/backbones.py`` and ``dinov3/models/vision_transformer.py``:

    - tokens ``[CLS, 4 storage (register) tokens, patches]``, no learned
      position embedding: the patch tokens' queries and keys are rotated by
      the axial RoPE of :mod:`mmuss.models.backbones.vit.rope` (base 100,
      ``'separate'`` coordinate normalisation, periods stored as
      ``rope_embed.periods``); its training-time coordinate rescaling
      (``rope_rescale=2``) only acts in training mode, never in the frozen
      backbone;
    - LayerNorm eps 1e-5 (``layernormbf16``), LayerScale on both branches,
      a ``qkv`` bias whose key part is masked out (``attn.qkv.bias_mask``;
      7B: no ``qkv`` bias at all);
    - GELU MLP of ratio 4 (S, B, L) or SwiGLU with separate ``w1``/``w2``/
      ``w3`` of ratio 6 (S+, H+) or 3 with hidden width aligned to 64 (7B);
    - the final ``norm`` over all tokens (the hub models do not untie the
      CLS norm; ``local_cls_norm`` of 7B / ViT-L SAT only serves training
      and is dropped when loading), an unused ``mask_token``.

    ``rope_*`` override the RoPE settings (see
    :class:`~mmuss.models.backbones.vit.rope.RopePositionEmbedding`). See
    :class:`BaseDinoViT` for the other arguments and the outputs (the q, k
    of ``out_qkv`` are the rotated ones).
    """

    family = 'DINOv3'
    default_arch = 'small'
    default_patch_size = 16
    default_img_size = 224
    default_num_register_tokens = 4
    default_layer_scale = True
    learned_pos_embed = False
    has_mask_token = True
    norm_eps = 1e-5
    mask_k_bias = True
    swiglu_split = True
    arch_zoo = {
        'small': dict(embed_dims=384, num_layers=12, num_heads=6),
        'small-plus': dict(embed_dims=384, num_layers=12, num_heads=6, mlp_ratio=6,
                           ffn_type='swiglu'),
        'base': dict(embed_dims=768, num_layers=12, num_heads=12),
        'large': dict(embed_dims=1024, num_layers=24, num_heads=16),
        'huge-plus': dict(embed_dims=1280, num_layers=32, num_heads=20, mlp_ratio=6,
                          ffn_type='swiglu'),
        '7b': dict(embed_dims=4096, num_layers=40, num_heads=32, mlp_ratio=3,
                   ffn_type='swiglu', swiglu_align=64, qkv_bias=False),
    }

    def __init__(self, *args, rope_base: float = 100.0, rope_normalize: str = 'separate',
                 rope_shift: Optional[float] = None, rope_jitter: Optional[float] = None,
                 rope_rescale: Optional[float] = 2.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.rope_embed = RopePositionEmbedding(self.embed_dims // self.num_heads, rope_base,
                                                rope_normalize, rope_shift, rope_jitter,
                                                rope_rescale)
        self.rope_embed.train(self.training)

    def build_embeddings(self) -> None:
        """Class token and storage tokens (official names); RoPE replaces ``pos_embed``."""
        dims = self.embed_dims
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dims))
        self.storage_tokens = None
        if self.num_register_tokens:
            self.storage_tokens = nn.Parameter(torch.zeros(1, self.num_register_tokens, dims))

    def random_init(self) -> None:
        super().random_init()
        nn.init.normal_(self.cls_token, std=0.02)
        if self.storage_tokens is not None:
            nn.init.normal_(self.storage_tokens, std=0.02)
        for module in self.modules():
            if isinstance(module, LayerScale):
                nn.init.constant_(module.gamma, 1e-5)

    def prepare_tokens(self, x: Tensor) -> Tuple[Tensor, Tuple[int, int], Optional[Rope]]:
        """Images → ``[CLS, storage, patches]`` tokens, the patch grid and RoPE ``(sin, cos)``."""
        patches, grid_hw = self.patch_embed(self.crop_input(x))
        batch = patches.shape[0]
        prefix = [self.cls_token.expand(batch, -1, -1)]
        if self.storage_tokens is not None:
            prefix.append(self.storage_tokens.expand(batch, -1, -1))
        tokens = torch.cat((*prefix, patches), dim=1)
        return tokens, grid_hw, self.rope_embed(*grid_hw)
