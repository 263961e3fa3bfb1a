"""Tiny models and samples shared by the STEGO/HP tests (no weights, no downloads)."""
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample


def tiny_dino(embed_dims: int = 16) -> dict:
    """A one-block DINO ViT (patch 4) that also returns its last-block attention logits."""
    return dict(type='DinoVisionTransformer', patch_size=4, out_attn=True,
                arch=dict(embed_dims=embed_dims, num_layers=1, num_heads=2))


def toy_segmentor_cfg(head: dict, embed_dims: int = 16) -> dict:
    """A :class:`FrozenBackboneSegmentor` config around :func:`tiny_dino` (sets the mmseg scope)."""
    init_default_scope('mmseg')
    return dict(
        type='FrozenBackboneSegmentor',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                               size_divisor=4, seg_pad_val=255),
        backbone=tiny_dino(embed_dims),
        decode_head=dict(in_channels=embed_dims, **head),
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
