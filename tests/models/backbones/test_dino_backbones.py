"""DINO / DINOv2 backbones: official key layout, parity with the official forward, freezing.

Parity runs at the official width, heads, patch size, FFN type and register
count of every variant but with 1 block (the blocks are identical, so depth
only multiplies the run time); the full-depth key layout is checked on the
meta device. The issue's larger sizes (320/322 square, 320×640 / 308×616) of
the expensive variants are marked ``slow``.
"""
import functools
from pathlib import Path
from typing import Tuple

import pytest
import torch
import torch.nn.functional as F
from .dino_reference import (OFFICIAL, PRETRAIN_SIZE, official_forward, official_key_shapes,
                            official_pos_embed, random_official_state_dict)
from mmengine.config import Config
from mmseg.registry import MODELS

from mmuss.models.backbones import DinoV2VisionTransformer, DinoVisionTransformer
from mmuss.models.utils import BackboneOutput

REPO = Path(__file__).resolve().parents[3]
TOL = dict(atol=1e-5, rtol=0)
URLS = {
    'dino-vit-s16': 'https://dl.fbaipublicfiles.com/dino/dino_deitsmall16_pretrain/'
                    'dino_deitsmall16_pretrain.pth',
    'dino-vit-s8': 'https://dl.fbaipublicfiles.com/dino/dino_deitsmall8_pretrain/'
                   'dino_deitsmall8_pretrain.pth',
    'dino-vit-b16': 'https://dl.fbaipublicfiles.com/dino/dino_vitbase16_pretrain/'
                    'dino_vitbase16_pretrain.pth',
    'dino-vit-b8': 'https://dl.fbaipublicfiles.com/dino/dino_vitbase8_pretrain/'
                   'dino_vitbase8_pretrain.pth',
}
for _size in 'sblg':
    for _regs in ('', '_reg4'):
        URLS[f'dinov2-vit-{_size}14{_regs.replace("_", "-")}'] = (
            f'https://dl.fbaipublicfiles.com/dinov2/dinov2_vit{_size}14/'
            f'dinov2_vit{_size}14{_regs}_pretrain.pth')


def build(name: str, depth: int = None, **kwargs):
    """The backbone for an official variant name, optionally with fewer blocks."""
    family, dims, full_depth, heads, patch, regs, ffn = OFFICIAL[name]
    arch = dict(embed_dims=dims, num_layers=full_depth if depth is None else depth,
                num_heads=heads, ffn_type=ffn)
    if family == 'DINO':
        return DinoVisionTransformer(arch=arch, patch_size=patch, **kwargs)
    return DinoV2VisionTransformer(arch=arch, patch_size=patch, num_register_tokens=regs,
                                   **kwargs)


def max_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a - b).abs().max().item()


@pytest.mark.parametrize('name', sorted(OFFICIAL))
def test_full_size_key_layout_is_official(name):
    with torch.device('meta'):
        model = build(name)
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert ours == official_key_shapes(name)
    family, dims, _, _, patch, regs, _ = OFFICIAL[name]
    size = {384: 'S', 768: 'B', 1024: 'L', 1536: 'g'}[dims]
    assert model.variant.name == f'{family} ViT-{size}/{patch}' + (
        f' with {regs} registers' if regs else '')


def cases():
    """(variant, depth, (H, W)) triples; the costly ones carry the slow mark."""
    cheap = {'dino-vit-s16', 'dinov2-vit-s14', 'dinov2-vit-s14-reg4'}
    out = []
    for name, (family, *_) in sorted(OFFICIAL.items()):
        depth = 2 if name in cheap else 1
        if family == 'DINO':
            sizes = [(224, 224), (112, 224), (320, 320), (320, 640)]
        else:
            sizes = [(224, 224), (154, 308), (322, 322), (308, 616)]
        for i, size in enumerate(sizes):
            marks = [pytest.mark.slow] if i >= 2 and name not in cheap else []
            case_id = f'{name}-{size[0]}x{size[1]}'
            out.append(pytest.param(name, depth, size, marks=marks, id=case_id))
    return out


@functools.lru_cache(maxsize=1)
def official_checkpoint(name: str, depth: int, folder: Path) -> Tuple[dict, Path]:
    """A random official-layout state dict and its ``.pth`` file (reused across sizes)."""
    sd = random_official_state_dict(name, depth)
    path = folder / f'{name}-{depth}.pth'
    torch.save(sd, path)
    return sd, path


@pytest.mark.parametrize('name,depth,size', cases())
def test_forward_matches_official(tmp_path_factory, name, depth, size):
    sd, path = official_checkpoint(name, depth, tmp_path_factory.getbasetemp())
    model = build(name, depth, out_indices=tuple(range(depth)), out_attn=True, out_qkv=True,
                  out_cls_token=True, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    x = torch.randn(1, 3, *size, generator=torch.Generator().manual_seed(1))
    ref = official_forward(sd, x, name)
    out = model(x)
    assert isinstance(out, BackboneOutput) and len(out) == depth
    patch = OFFICIAL[name][4]
    for ours, theirs in zip(out, ref['maps']):
        assert ours.shape == (1, OFFICIAL[name][1], size[0] // patch, size[1] // patch)
        assert max_err(ours, theirs) <= 1e-5
    assert out.attn.shape == ref['attn'].shape
    assert max_err(out.attn, ref['attn']) <= 1e-5
    assert max_err(out.cls_token, ref['cls']) <= 1e-5
    for ours, theirs in zip(out.qkv, ref['qkv']):
        assert max_err(ours, theirs) <= 1e-5
    model.out_attn = model.out_qkv = model.out_cls_token = False  # every block through SDPA
    model.out_indices = [depth - 1]
    plain = model(x)
    assert plain.attn is None and plain.qkv is None and plain.cls_token is None
    assert len(plain) == 1 and max_err(plain[0], ref['maps'][-1]) <= 1e-5


def test_pos_embed_is_dino_scale_factor_interpolation_not_size_based():
    model = build('dino-vit-s8', 1)
    pos = model.position_embedding(None, (320, 320))
    grid = model.pos_embed[:, 1:].reshape(1, 28, 28, -1).permute(0, 3, 1, 2)
    by_size = F.interpolate(grid, size=(40, 40), mode='bicubic').flatten(2).transpose(1, 2)
    assert pos.shape == (1, 1 + 1600, 384)
    assert max_err(pos[:, 1:], by_size) > 1e-3  # the +0.1 scale factor changes the result
    torch.testing.assert_close(pos[:, 1:].reshape(1, 40, 40, -1).permute(0, 3, 1, 2),
                               F.interpolate(grid, scale_factor=(40.1 / 28, 40.1 / 28),
                                             mode='bicubic'), **TOL)
    # pretraining grid, square: unchanged; same number of patches, non-square: interpolated
    assert model.position_embedding(None, (224, 224)) is model.pos_embed
    assert max_err(model.position_embedding(None, (112, 448)), model.pos_embed) > 1e-3


def test_register_models_resize_by_size_with_antialias():
    plain, regs = build('dinov2-vit-s14', 1), build('dinov2-vit-s14-reg4', 1)
    regs.pos_embed.data.copy_(plain.pos_embed.data)
    pos_plain = plain.position_embedding(torch.zeros(1), (224, 224))
    pos_regs = regs.position_embedding(torch.zeros(1), (224, 224))
    assert max_err(pos_plain, pos_regs) > 1e-3
    grid = plain.pos_embed[:, 1:].reshape(1, 37, 37, -1).permute(0, 3, 1, 2)
    want = F.interpolate(grid, size=(16, 16), mode='bicubic', antialias=True)
    torch.testing.assert_close(pos_regs[:, 1:], want.flatten(2).transpose(1, 2), **TOL)
    torch.testing.assert_close(
        pos_plain, official_pos_embed(plain.pos_embed, 224, 224, 14, 0.1, False), **TOL)


def test_input_not_multiple_of_patch_fails_or_crops():
    model = build('dino-vit-s16', 1, out_cls_token=True)
    x = torch.randn(1, 3, 230, 250)
    with pytest.raises(ValueError, match=r'230x250 input.*patch_size=16.*240x256'):
        model(x)
    model.crop_to_patch = True
    sd = model.state_dict()
    ref = official_forward(sd, x, 'dino-vit-s16')  # DINO v1's conv drops the remainder
    out = model(x)
    assert out[0].shape[-2:] == (14, 15)
    assert max_err(out[0], ref['maps'][0]) <= 1e-5
    assert max_err(out.cls_token, ref['cls']) <= 1e-5


def test_tiny_custom_arch_random_init_and_default_outputs():
    model = DinoVisionTransformer(arch=dict(embed_dims=96, num_layers=4, num_heads=3),
                                  patch_size=8)
    out = model(torch.randn(2, 3, 64, 48))
    assert len(out) == 1 and out[0].shape == (2, 96, 8, 6)
    assert out.attn is None and out.qkv is None and out.cls_token is None
    intermediate = DinoVisionTransformer(arch=dict(embed_dims=96, num_layers=4, num_heads=3),
                                         patch_size=8, out_indices=(1, -1), out_qkv=True)
    intermediate.load_state_dict(model.state_dict())
    both = intermediate(torch.zeros(1, 3, 32, 32))
    assert len(both) == 2 and all(m.shape == (1, 96, 4, 4) for m in both)
    assert [t.shape for t in both.qkv] == [(1, 3, 16, 32)] * 3
    with pytest.raises(ValueError, match='missing keys'):
        DinoVisionTransformer(arch=dict(embed_dims=96, num_heads=3))
    with pytest.raises(ValueError, match='out of range'):
        DinoVisionTransformer(arch='tiny', out_indices=12)


def test_frozen_by_default():
    model = build('dino-vit-s16', 1)
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    model.train()
    assert not model.training
    x = torch.randn(1, 3, 32, 32, requires_grad=True)
    assert not model(x)[0].requires_grad
    trainable = build('dino-vit-s16', 1, frozen=False).train()
    assert trainable.training and trainable(x)[0].requires_grad


def test_frozen_backbone_survives_a_head_training_step():
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    init_default_scope('mmseg')
    model = MODELS.build(dict(
        type='FrozenBackboneSegmentor',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[0.0] * 3, std=[1.0] * 3,
                               size=(32, 32)),
        backbone=dict(type='DinoV2VisionTransformer', num_register_tokens=4,
                      arch=dict(embed_dims=32, num_layers=2, num_heads=2), patch_size=4),
        decode_head=dict(type='ClusterProbeHead', in_channels=32, num_classes=3)))
    model.init_weights()
    model.train()
    before = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    optim = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=1.0)))
    samples = [SegDataSample(gt_sem_seg=PixelData(data=torch.randint(0, 3, (1, 32, 32))),
                             metainfo=dict(img_shape=(32, 32), ori_shape=(32, 32)))
               for _ in range(2)]
    data = dict(inputs=[torch.rand(3, 32, 32) * 255 for _ in range(2)], data_samples=samples)
    head_before = [p.clone() for p in model.decode_head.parameters()]
    model.train_step(data, optim)
    assert any(not torch.equal(a, b) for a, b in zip(head_before, model.decode_head.parameters()))
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert all(p.grad is None for p in model.backbone.parameters())
    assert not model.backbone.training


@pytest.mark.parametrize('name', sorted(OFFICIAL))
def test_base_config_builds_the_variant_with_the_official_url(name):
    cfg = Config.fromfile(REPO / 'configs' / '_base_' / 'models' / f'{name}.py')
    backbone = cfg.model.backbone
    assert backbone.init_cfg == dict(type='Pretrained', checkpoint=URLS[name])
    with torch.device('meta'):
        model = MODELS.build(backbone)
    family, dims, depth, heads, patch, regs, ffn = OFFICIAL[name]
    assert (model.family, model.embed_dims, model.num_layers, model.num_heads, model.patch_size,
            model.num_register_tokens, model.ffn_type) == (family, dims, depth, heads, patch,
                                                           regs, ffn)
    assert model.pos_grid == PRETRAIN_SIZE[family] // patch
    assert cfg.model.type == 'FrozenBackboneSegmentor'
