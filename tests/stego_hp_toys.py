"""Tiny models shared by the STEGO/HP tests (no weights, no downloads)."""
import torch
import torch.nn as nn
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmuss.models.utils import BackboneOutput


@MODELS.register_module(force=True)
class StegoHPToyBackbone(nn.Module):
    """Patch embedding + one attention map: ``B×3×H×W`` → ``BackboneOutput`` with ``attn``.

    Features ``B×C×(H/p)×(W/p)``; ``attn`` are pre-softmax logits
    ``q·kᵀ/√d`` of ``num_heads`` heads over the patch tokens.
    """

    def __init__(self, embed_dims: int = 16, patch_size: int = 4, num_heads: int = 2) -> None:
        super().__init__()
        self.patch = nn.Conv2d(3, embed_dims, patch_size, stride=patch_size)
        self.qk = nn.Linear(embed_dims, 2 * embed_dims)
        self.num_heads = num_heads

    def forward(self, x: torch.Tensor) -> BackboneOutput:
        feats = self.patch(x)
        b, c, h, w = feats.shape
        tokens = feats.flatten(2).transpose(1, 2)
        q, k = self.qk(tokens).reshape(b, h * w, 2, self.num_heads, -1).permute(2, 0, 3, 1, 4)
        attn = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
        return BackboneOutput([feats], attn=attn)


def toy_segmentor_cfg(head: dict, extra_views=(), embed_dims: int = 16) -> dict:
    """A :class:`MultiViewSegmentor` config around the toy backbone (sets the mmseg scope)."""
    init_default_scope('mmseg')
    return dict(
        type='MultiViewSegmentor',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                               size_divisor=4, seg_pad_val=255),
        backbone=dict(type='StegoHPToyBackbone', embed_dims=embed_dims),
        decode_head=dict(in_channels=embed_dims, **head),
        train_cfg=dict(extra_views=list(extra_views)),
        test_cfg=dict(mode='whole'))


def samples(batch, size=16, views=('knn_img', )):
    """Labelled data samples carrying random raw ``3×size×size`` images as ``views``."""
    out = []
    for _ in range(batch):
        s = SegDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size)))
        s.gt_sem_seg = PixelData(data=torch.randint(0, 3, (1, size, size)))
        for name in views:
            s.set_field(torch.randint(0, 256, (3, size, size), dtype=torch.uint8), name)
        out.append(s)
    return out
