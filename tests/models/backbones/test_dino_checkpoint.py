"""Strict loading of every supported DINO / DINOv2 checkpoint format, and the converter."""
import argparse
import importlib.util
from pathlib import Path

import pytest
import torch
from .dino_reference import OFFICIAL, official_forward, random_official_state_dict, to_timm_layout

from mmuss.models.backbones import DinoV2VisionTransformer, DinoVisionTransformer

REPO = Path(__file__).resolve().parents[3]


def build(name: str, depth: int = 1, **kwargs):
    family, dims, _, heads, patch, regs, ffn = OFFICIAL[name]
    arch = dict(embed_dims=dims, num_layers=depth, num_heads=heads, ffn_type=ffn)
    if family == 'DINO':
        return DinoVisionTransformer(arch=arch, patch_size=patch, **kwargs)
    return DinoV2VisionTransformer(arch=arch, patch_size=patch, num_register_tokens=regs,
                                   **kwargs)


def load(name: str, path: Path, depth: int = 1, **init):
    model = build(name, depth, out_cls_token=True,
                  init_cfg=dict(type='Pretrained', checkpoint=str(path), **init))
    model.init_weights()
    return model


def save(obj, path: Path) -> Path:
    torch.save(obj, path)
    return path


def features(model, size=(56, 56)):
    out = model(torch.randn(1, 3, *size, generator=torch.Generator().manual_seed(3)))
    return out[0], out.cls_token


def test_full_dino_checkpoint_teacher_by_default_student_on_request(tmp_path):
    teacher = random_official_state_dict('dino-vit-s16', 1, seed=0)
    student = random_official_state_dict('dino-vit-s16', 1, seed=1)
    head = {'head.mlp.0.weight': torch.randn(8, 384), 'head.last_layer.weight_g': torch.ones(8, 1)}
    ckpt = {
        'teacher': {**{f'backbone.{k}': v for k, v in teacher.items()}, **head},
        'student': {**{f'module.backbone.{k}': v for k, v in student.items()},
                    **{f'module.{k}': v for k, v in head.items()}},
        'optimizer': {'state': {}}, 'epoch': 100, 'args': argparse.Namespace(arch='vit_small'),
        'dino_loss': {'center': torch.zeros(1, 8)},
    }
    path = save(ckpt, tmp_path / 'full.pth')
    x = torch.randn(1, 3, 48, 64)
    for key, weights in (({}, teacher), (dict(checkpoint_key='student'), student)):
        model = load('dino-vit-s16', path, **key)
        ref = official_forward(weights, x, 'dino-vit-s16')
        assert (model(x)[0] - ref['maps'][0]).abs().max() <= 1e-5
    with pytest.raises(KeyError, match="no 'teacher' entry"):
        load('dino-vit-s16', save({'student': ckpt['student']}, tmp_path / 's.pth'))


def test_dinov2_training_checkpoint_with_block_chunks(tmp_path):
    sd = random_official_state_dict('dinov2-vit-b14-reg4', 2)
    chunked = {}  # block_chunks=1: every block i is stored as blocks.0.i
    for key, value in sd.items():
        if key.startswith('blocks.'):
            key = 'blocks.0.' + key[len('blocks.'):]
        chunked[key] = value
    assert 'blocks.0.1.norm1.weight' in chunked
    model_sd = {f'teacher.backbone.{k}': v for k, v in chunked.items()}
    model_sd.update({f'student.backbone.{k}': v + 1 for k, v in chunked.items()})
    model_sd['teacher.dino_head.mlp.0.weight'] = torch.randn(4, 768)
    model = load('dinov2-vit-b14-reg4', save({'model': model_sd}, tmp_path / 'train.pth'), 2)
    reference = build('dinov2-vit-b14-reg4', 2, out_cls_token=True)
    reference.load_state_dict(sd)
    for ours, theirs in zip(features(model), features(reference)):
        assert torch.equal(ours, theirs)


@pytest.mark.parametrize('name', ['dino-vit-s8', 'dinov2-vit-s14', 'dinov2-vit-s14-reg4',
                                  'dinov2-vit-g14'])
def test_timm_layout_loads_to_the_same_model(tmp_path, name):
    sd = random_official_state_dict(name, 1)
    timm = to_timm_layout(sd)
    assert ('reg_token' in timm) == ('reg4' in name) and 'mask_token' not in timm
    model = load(name, save(timm, tmp_path / 'timm.pth'))
    x = torch.randn(1, 3, 56, 112, generator=torch.Generator().manual_seed(5))
    ref = official_forward(sd, x, name)
    out = model(x)
    assert (out[0] - ref['maps'][0]).abs().max() <= 1e-5
    assert (out.cls_token - ref['cls']).abs().max() <= 1e-5


def test_missing_unexpected_and_misshaped_keys_are_listed(tmp_path):
    sd = random_official_state_dict('dino-vit-s16', 1)
    del sd['blocks.0.attn.proj.bias']
    sd['blocks.0.attn.extra'] = torch.zeros(1)
    sd['norm.bias'] = torch.zeros(7)
    with pytest.raises(KeyError) as err:
        load('dino-vit-s16', save(sd, tmp_path / 'bad.pth'))
    msg = str(err.value)
    assert "missing keys (1): ['blocks.0.attn.proj.bias']" in msg
    assert "unexpected keys (1): ['blocks.0.attn.extra']" in msg
    assert 'norm.bias: checkpoint (7,) vs model (384,)' in msg and 'bad.pth' in msg


@pytest.mark.parametrize('ckpt_name,config_name,says', [
    ('dinov2-vit-s14', 'dino-vit-s16', 'is a DINOv2 ViT-S/14 (embed_dims=384'),
    ('dino-vit-s8', 'dino-vit-s16', 'is a DINO ViT-S/8 '),
    ('dino-vit-s16', 'dino-vit-b16', 'is a DINO ViT-S/16 '),
    ('dinov2-vit-s14-reg4', 'dinov2-vit-s14', 'is a DINOv2 ViT-S/14 with 4 registers'),
])
def test_wrong_variant_names_the_checkpoint_variant(tmp_path, ckpt_name, config_name, says):
    path = save(random_official_state_dict(ckpt_name, 1), tmp_path / 'x.pth')
    with pytest.raises(ValueError, match='configured as a') as err:
        load(config_name, path)
    assert says in str(err.value) and 'x.pth' in str(err.value)


def test_wrong_depth_is_a_variant_error(tmp_path):
    path = save(random_official_state_dict('dino-vit-s16', 2), tmp_path / 'deep.pth')
    with pytest.raises(ValueError, match='num_layers=2'):
        load('dino-vit-s16', path, depth=1)


def test_unreadable_or_foreign_checkpoints(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere.pth'):
        load('dino-vit-s16', tmp_path / 'nowhere.pth')
    with pytest.raises(KeyError, match='not a DINO/DINOv2 ViT state dict'):
        load('dino-vit-s16', save({'conv.weight': torch.zeros(1)}, tmp_path / 'resnet.pth'))
    with pytest.raises(ValueError, match='init_cfg takes'):
        build('dino-vit-s16', init_cfg=dict(type='Pretrained', checkpoint='x', prefix='a.')
              ).init_weights()


def load_converter():
    path = REPO / 'tools' / 'model_converters' / 'dino2mmuss.py'
    spec = importlib.util.spec_from_file_location('dino2mmuss', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_converter_writes_mmuss_format_that_loads_strictly(tmp_path):
    converter = load_converter()
    sd = random_official_state_dict('dinov2-vit-s14-reg4', 1)
    src = save({'teacher': {f'backbone.{k}': v for k, v in to_timm_layout(sd).items()}},
               tmp_path / 'src.pth')
    dst = tmp_path / 'mmuss.pth'
    converter.main([str(src), str(dst)])
    converted = torch.load(dst)
    assert converted['meta']['variant'] == 'DINOv2 ViT-S/14 with 4 registers'
    assert set(converted['state_dict']) == set(sd)
    model = load('dinov2-vit-s14-reg4', dst)
    reference = build('dinov2-vit-s14-reg4', out_cls_token=True)
    reference.load_state_dict(sd)
    for ours, theirs in zip(features(model), features(reference)):
        assert (ours - theirs).abs().max() <= 1e-6


def test_official_url_goes_through_mmengine_checkpoint_loader(tmp_path, monkeypatch):
    from mmengine.runner import CheckpointLoader
    sd = random_official_state_dict('dino-vit-s16', 1)
    asked = []

    def fake_http(filename, map_location=None, **kwargs):
        asked.append(filename)
        return sd

    monkeypatch.setitem(CheckpointLoader._schemes, 'https://', fake_http)
    url = 'https://dl.fbaipublicfiles.com/dino/dino_deitsmall16_pretrain/x.pth'
    model = load('dino-vit-s16', url)
    assert asked == [url] and torch.equal(model.pos_embed, sd['pos_embed'])
