"""DINOv3 backbones: official key layout, parity with the official forward (RoPE), freezing.

Parity runs at each variant's official width, heads and FFN with 1-2 blocks
(blocks are identical, depth only multiplies the run time), loading the
random official weights through ``init_cfg`` like a user's ``.pth``.
"""
import logging
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmseg.registry import MODELS

from mmuss.models.backbones import DinoV3VisionTransformer, DinoVisionTransformer
from .dinov3_reference import (DINOV3, dinov3_key_shapes, official_dinov3_forward,
                               random_dinov3_state_dict)

REPO = Path(__file__).resolve().parents[3]
ARCH = {'dinov3-vit-s16': 'small', 'dinov3-vit-s16plus': 'small-plus', 'dinov3-vit-b16': 'base',
        'dinov3-vit-l16': 'large', 'dinov3-vit-h16plus': 'huge-plus', 'dinov3-vit-7b16': '7b'}
HUB = {'dinov3-vit-s16': 'vits16', 'dinov3-vit-s16plus': 'vits16plus', 'dinov3-vit-b16': 'vitb16',
       'dinov3-vit-l16': 'vitl16', 'dinov3-vit-h16plus': 'vith16plus', 'dinov3-vit-7b16': 'vit7b16'}
SIZES = [(224, 224), (320, 320), (224, 320)]


def build(name: str, depth: int = None, **kwargs) -> DinoV3VisionTransformer:
    """The backbone of an official variant, optionally with fewer blocks."""
    arch = dict(DinoV3VisionTransformer.arch_zoo[ARCH[name]])
    if depth is not None:
        arch['num_layers'] = depth
    return DinoV3VisionTransformer(arch=arch, **kwargs)


def max_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a - b).abs().max().item()


@pytest.mark.parametrize('name', sorted(DINOV3))
def test_full_size_key_layout_is_official(name):
    with torch.device('meta'):
        model = DinoV3VisionTransformer(arch=ARCH[name])
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert ours == dinov3_key_shapes(name)
    size = {'dinov3-vit-s16': 'S', 'dinov3-vit-s16plus': 'S+', 'dinov3-vit-b16': 'B',
            'dinov3-vit-l16': 'L', 'dinov3-vit-h16plus': 'H+', 'dinov3-vit-7b16': '7B'}[name]
    assert model.variant.name == f'DINOv3 ViT-{size}/16 with 4 registers'
    assert 'RoPE' in model.variant.describe()


def parity_cases():
    cheap = {'dinov3-vit-s16': 2, 'dinov3-vit-s16plus': 2, 'dinov3-vit-b16': 1}
    out = []
    for name, depth in cheap.items():
        out += [pytest.param(name, depth, size, id=f'{name}-{size[0]}x{size[1]}')
                for size in SIZES]
    for name in ('dinov3-vit-l16', 'dinov3-vit-h16plus'):
        out += [pytest.param(name, 1, size, id=f'{name}-{size[0]}x{size[1]}',
                             marks=[pytest.mark.slow] if size != (224, 320) else [])
                for size in SIZES]
    out.append(pytest.param('dinov3-vit-7b16', 1, (224, 320), id='dinov3-vit-7b16-224x320',
                            marks=[pytest.mark.slow]))
    return out


@pytest.mark.parametrize('name,depth,size', parity_cases())
def test_forward_matches_official_dinov3(tmp_path, name, depth, size):
    sd = random_dinov3_state_dict(name, depth, local_cls_norm=name == 'dinov3-vit-7b16')
    path = tmp_path / 'official.pth'
    torch.save(sd, path)
    model = build(name, depth, out_indices=list(range(depth)), out_attn=True, out_qkv=True,
                  out_cls_token=True, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    x = torch.randn(2, 3, *size, generator=torch.Generator().manual_seed(1))
    ref = official_dinov3_forward(sd, x, name)
    out = model(x)
    dims = DINOV3[name][0]
    assert len(out) == depth
    for ours, theirs in zip(out, ref['maps']):
        assert ours.shape == (2, dims, size[0] // 16, size[1] // 16)
        assert max_err(ours, theirs) <= 1e-5
    n = size[0] * size[1] // 256
    assert out.attn.shape == (2, DINOV3[name][2], n, n)
    assert max_err(out.attn, ref['attn']) <= 1e-5
    assert max_err(out.cls_token, ref['cls']) <= 1e-5
    for ours, theirs in zip(out.qkv, ref['qkv']):
        assert max_err(ours, theirs) <= 1e-5
    model.out_attn = model.out_qkv = model.out_cls_token = False  # every block through SDPA
    model.out_indices = [depth - 1]
    plain = model(x)
    assert plain.attn is None and plain.qkv is None and plain.cls_token is None
    assert len(plain) == 1 and max_err(plain[0], ref['maps'][-1]) <= 1e-5


def test_rope_and_masked_key_bias_matter():
    """The parity test can fail: without RoPE or with the key bias the logits change."""
    sd = random_dinov3_state_dict('dinov3-vit-s16', 1)
    model = build('dinov3-vit-s16', 1, out_attn=True)
    model.load_state_dict(sd)
    x = torch.randn(1, 3, 64, 96, generator=torch.Generator().manual_seed(2))
    ref = official_dinov3_forward(sd, x, 'dinov3-vit-s16')
    assert max_err(model(x).attn, ref['attn']) <= 1e-5
    model.blocks[0].attn.qkv.bias_mask.fill_(1)
    assert max_err(model(x).attn, ref['attn']) > 1e-2
    model.load_state_dict(sd)
    model.rope_embed.periods.fill_(1e9)  # angles ~0: no rotation
    assert max_err(model(x).attn, ref['attn']) > 1e-2


def test_rope_augmentation_only_in_training():
    sd = random_dinov3_state_dict('dinov3-vit-s16', 1)
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(4))
    ref = official_dinov3_forward(sd, x, 'dinov3-vit-s16')['maps'][0]
    trainable = build('dinov3-vit-s16', 1, frozen=False)
    trainable.load_state_dict(sd)
    assert trainable.rope_embed.rescale == 2.0
    torch.manual_seed(0)
    assert max_err(trainable.train()(x)[0], ref) > 1e-3  # coordinates rescaled at random
    assert max_err(trainable.eval()(x)[0], ref) <= 1e-5
    frozen = build('dinov3-vit-s16', 1)
    frozen.load_state_dict(sd)
    frozen.train()
    assert not frozen.rope_embed.training and max_err(frozen(x)[0], ref) <= 1e-5


def test_local_cls_norm_of_7b_style_checkpoints_is_dropped(tmp_path):
    sd = random_dinov3_state_dict('dinov3-vit-s16', 1, local_cls_norm=True)
    torch.save({'teacher': {f'backbone.{k}': v for k, v in sd.items()}}, tmp_path / 'train.pth')
    model = build('dinov3-vit-s16', 1, init_cfg=dict(type='Pretrained',
                                                      checkpoint=str(tmp_path / 'train.pth')))
    model.init_weights()
    assert torch.equal(model.norm.weight, sd['norm.weight'])


@pytest.mark.parametrize('ckpt_name,config_name,says', [
    ('dinov3-vit-s16plus', 'dinov3-vit-s16', 'is a DINOv3 ViT-S+/16 with 4 registers'),
    ('dinov3-vit-b16', 'dinov3-vit-s16', 'is a DINOv3 ViT-B/16 with 4 registers'),
])
def test_wrong_variant_names_the_checkpoint(tmp_path, ckpt_name, config_name, says):
    torch.save(random_dinov3_state_dict(ckpt_name, 1), tmp_path / 'x.pth')
    model = build(config_name, 1, init_cfg=dict(type='Pretrained',
                                                 checkpoint=str(tmp_path / 'x.pth')))
    with pytest.raises(ValueError, match='configured as a') as err:
        model.init_weights()
    assert says in str(err.value) and 'RoPE' in str(err.value)


def test_dinov3_checkpoint_into_dino_v1_names_it(tmp_path):
    torch.save(random_dinov3_state_dict('dinov3-vit-s16', 1), tmp_path / 'v3.pth')
    model = DinoVisionTransformer(arch=dict(embed_dims=384, num_layers=1, num_heads=6),
                                  init_cfg=dict(type='Pretrained',
                                                checkpoint=str(tmp_path / 'v3.pth')))
    with pytest.raises(ValueError, match='is a DINOv3 ViT-S/16 with 4 registers'):
        model.init_weights()


@pytest.mark.parametrize('name', sorted(DINOV3))
def test_base_config_builds_the_variant(name):
    cfg = Config.fromfile(REPO / 'configs' / '_base_' / 'models' / f'{name}.py')
    backbone = cfg.model.backbone
    assert backbone.init_cfg == dict(
        type='Pretrained', checkpoint=f'checkpoints/dinov3-{HUB[name]}-pretrain-lvd1689m')
    with torch.device('meta'):
        model = MODELS.build(backbone)
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == dinov3_key_shapes(name)
    assert model.patch_size == 16  # the preprocessor's size_divisor (tests/test_configs.py)


def test_arbitrary_multiple_of_16_and_bad_sizes():
    model = build('dinov3-vit-s16', 1)
    assert model(torch.randn(1, 3, 48, 80))[0].shape == (1, 384, 3, 5)
    with pytest.raises(ValueError, match='not a multiple of patch_size=16'):
        model(torch.randn(1, 3, 50, 80))


def test_frozen_by_default_and_after_a_head_step():
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    init_default_scope('mmseg')
    model = MODELS.build(dict(
        type='FrozenBackboneSegmentor',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[0.0] * 3, std=[1.0] * 3,
                               size=(32, 32)),
        backbone=dict(type='DinoV3VisionTransformer',
                      arch=dict(embed_dims=32, num_layers=2, num_heads=2), patch_size=4),
        decode_head=dict(type='ClusterProbeHead', in_channels=32, num_classes=3)))
    model.init_weights()
    model.train()
    backbone = model.backbone
    assert not backbone.training and not backbone.rope_embed.training
    assert not any(p.requires_grad for p in backbone.parameters())
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    optim = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=1.0)))
    samples = [SegDataSample(gt_sem_seg=PixelData(data=torch.randint(0, 3, (1, 32, 32))),
                             metainfo=dict(img_shape=(32, 32), ori_shape=(32, 32)))
               for _ in range(2)]
    data = dict(inputs=[torch.rand(3, 32, 32) * 255 for _ in range(2)], data_samples=samples)
    head_before = [p.clone() for p in model.decode_head.parameters()]
    model.train_step(data, optim)
    assert any(not torch.equal(a, b) for a, b in zip(head_before, model.decode_head.parameters()))
    for key, value in backbone.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert all(p.grad is None for p in backbone.parameters())
    assert not backbone(torch.randn(1, 3, 32, 32, requires_grad=True))[0].requires_grad


@pytest.mark.parametrize('cls', [DinoVisionTransformer, DinoV3VisionTransformer])
def test_backbone_without_weights_warns_once(cls):
    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        model = cls(arch=dict(embed_dims=32, num_layers=1, num_heads=2))
        model.init_weights()
        model.init_weights()
    finally:
        logger.removeHandler(handler)
    random = [r for r in records if 'RANDOM weights' in r.getMessage()]
    assert len(random) == 1 and random[0].levelno == logging.WARNING
    assert cls.__name__ in random[0].getMessage()
