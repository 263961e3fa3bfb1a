"""Hugging Face ``transformers`` layouts load into the same model as the official checkpoints.

Random official weights are written in the hub layout with the key mapping of
``transformers``' own conversion scripts (``dinov3_reference.to_hf_*``), saved
as a hub folder (``config.json`` + ``model.safetensors``), loaded through
``init_cfg``, and must give exactly the outputs of the official ``.pth``.
"""
import importlib.util
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from mmuss.models.backbones import (DinoV2VisionTransformer, DinoV3VisionTransformer,
                                    DinoVisionTransformer)
from .dino_reference import OFFICIAL, random_official_state_dict
from .dinov3_reference import (DINOV3, official_dinov3_forward, random_dinov3_state_dict,
                               to_hf_dinov3, to_hf_encoder)

REPO = Path(__file__).resolve().parents[3]
HF_CONFIG = {'DINO': dict(model_type='vit', architectures=['ViTModel']),
             'DINOv2': dict(model_type='dinov2', architectures=['Dinov2Model']),
             'DINOv2-reg': dict(model_type='dinov2_with_registers',
                                architectures=['Dinov2WithRegistersModel']),
             'DINOv3': dict(model_type='dinov3_vit', architectures=['DINOv3ViTModel'])}
V3_ARCH = {'dinov3-vit-s16': 'small', 'dinov3-vit-s16plus': 'small-plus',
           'dinov3-vit-b16': 'base'}


def write_hub_folder(folder: Path, state: dict, config: dict = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    save_file(state, str(folder / 'model.safetensors'))
    if config is not None:
        (folder / 'config.json').write_text(json.dumps(config))
    return folder


def build_v1_v2(name: str, checkpoint: Path):
    family, dims, _, heads, patch, regs, ffn = OFFICIAL[name]
    arch = dict(embed_dims=dims, num_layers=1, num_heads=heads, ffn_type=ffn)
    init = dict(type='Pretrained', checkpoint=str(checkpoint))
    common = dict(arch=arch, patch_size=patch, out_attn=True, out_cls_token=True, init_cfg=init)
    if family == 'DINO':
        model = DinoVisionTransformer(**common)
    else:
        model = DinoV2VisionTransformer(num_register_tokens=regs, **common)
    model.init_weights()
    return model


def build_v3(name: str, checkpoint: Path, **arch_changes):
    arch = dict(DinoV3VisionTransformer.arch_zoo[V3_ARCH[name]], num_layers=1, **arch_changes)
    model = DinoV3VisionTransformer(arch=arch, out_attn=True, out_cls_token=True,
                                    init_cfg=dict(type='Pretrained', checkpoint=str(checkpoint)))
    model.init_weights()
    return model


def assert_same_outputs(a, b, x):
    out_a, out_b = a(x), b(x)
    assert torch.equal(out_a[0], out_b[0])
    assert torch.equal(out_a.attn, out_b.attn)
    assert torch.equal(out_a.cls_token, out_b.cls_token)


@pytest.mark.parametrize('name', ['dino-vit-s8', 'dinov2-vit-s14', 'dinov2-vit-s14-reg4',
                                  'dinov2-vit-g14'])
def test_dino_and_dinov2_hub_folders_load_like_official(tmp_path, name):
    family = OFFICIAL[name][0]
    sd = random_official_state_dict(name, 1)
    torch.save(sd, tmp_path / 'official.pth')
    hf = to_hf_encoder(sd, family)
    assert ('embeddings.register_tokens' in hf) == ('reg4' in name)
    if family == 'DINO':
        hf['pooler.dense.weight'] = torch.zeros(384, 384)  # older ViTModel exports carry one
        hf['pooler.dense.bias'] = torch.zeros(384)
    config = HF_CONFIG['DINOv2-reg' if 'reg4' in name else family]
    folder = write_hub_folder(tmp_path / 'hub', hf, config)
    official = build_v1_v2(name, tmp_path / 'official.pth')
    from_hub = build_v1_v2(name, folder)
    for key, value in official.state_dict().items():
        assert torch.equal(value, from_hub.state_dict()[key]), key
    patch = OFFICIAL[name][4]
    assert_same_outputs(official, from_hub, torch.randn(1, 3, 4 * patch, 6 * patch))


@pytest.mark.parametrize('name', sorted(V3_ARCH))
def test_dinov3_hub_folder_loads_like_official(tmp_path, name):
    sd = random_dinov3_state_dict(name, 1)
    torch.save(sd, tmp_path / 'official.pth')
    hf = to_hf_dinov3(sd)
    assert 'layer.0.attention.k_proj.bias' not in hf and 'embeddings.mask_token' in hf
    assert hf['embeddings.mask_token'].shape == (1, 1, DINOV3[name][0])
    dims, _, heads, *_ = DINOV3[name]
    config = dict(HF_CONFIG['DINOv3'], hidden_size=dims, num_attention_heads=heads,
                  rope_theta=100.0, layer_norm_eps=1e-5)
    folder = write_hub_folder(tmp_path / 'hub', hf, config)
    official = build_v3(name, tmp_path / 'official.pth')
    from_hub = build_v3(name, folder)
    x = torch.randn(2, 3, 64, 96, generator=torch.Generator().manual_seed(3))
    assert_same_outputs(official, from_hub, x)
    ref = official_dinov3_forward(sd, x, name)
    assert (from_hub(x).attn - ref['attn']).abs().max() <= 1e-5
    # the key bias is dropped by the hub and masked out officially: same model
    mask = official.blocks[0].attn.qkv.bias_mask
    for key, value in official.state_dict().items():
        theirs = from_hub.state_dict()[key]
        if key.endswith('attn.qkv.bias'):
            value, theirs = value * mask, theirs * mask
        assert torch.equal(value, theirs), key


def test_dinov3_bare_safetensors_and_shards_and_no_qkv_bias(tmp_path):
    """7B-style weights (no qkv bias), a sharded folder, and a lone file without config."""
    sd = random_dinov3_state_dict('dinov3-vit-s16', 1)
    sd = {k: v for k, v in sd.items() if not k.startswith('blocks.0.attn.qkv.bias')}
    torch.save(sd, tmp_path / 'official.pth')
    official = build_v3('dinov3-vit-s16', tmp_path / 'official.pth', qkv_bias=False)
    hf = to_hf_dinov3(sd)
    assert not any('q_proj.bias' in k for k in hf)
    shards = tmp_path / 'sharded'
    shards.mkdir()
    keys = sorted(hf)
    weight_map = {}
    for i, part in enumerate((keys[::2], keys[1::2])):
        file = f'model-0000{i + 1}-of-00002.safetensors'
        save_file({k: hf[k] for k in part}, str(shards / file))
        weight_map.update({k: file for k in part})
    (shards / 'model.safetensors.index.json').write_text(json.dumps(dict(weight_map=weight_map)))
    (shards / 'config.json').write_text(json.dumps(dict(
        HF_CONFIG['DINOv3'], hidden_size=384, num_attention_heads=6, rope_theta=100.0)))
    lone = tmp_path / 'lone' / 'weights.safetensors'
    lone.parent.mkdir()
    save_file(hf, str(lone))
    x = torch.randn(1, 3, 48, 64, generator=torch.Generator().manual_seed(5))
    for source in (shards, lone):
        assert_same_outputs(official, build_v3('dinov3-vit-s16', source, qkv_bias=False), x)


def test_hub_folder_of_another_variant_names_it(tmp_path):
    sd = random_dinov3_state_dict('dinov3-vit-s16plus', 1)
    folder = write_hub_folder(tmp_path / 'hub', to_hf_dinov3(sd), dict(
        HF_CONFIG['DINOv3'], hidden_size=384, num_attention_heads=6, rope_theta=100.0))
    with pytest.raises(ValueError, match=r'is a DINOv3 ViT-S\+/16 with 4 registers'):
        build_v3('dinov3-vit-s16', folder)
    with pytest.raises(FileNotFoundError, match='not a Hugging Face model folder'):
        build_v3('dinov3-vit-s16', tmp_path)


def load_converter():
    path = REPO / 'tools' / 'model_converters' / 'dino2mmuss.py'
    spec = importlib.util.spec_from_file_location('dino2mmuss', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_converter_turns_hub_folders_and_official_pth_into_mmuss(tmp_path):
    converter = load_converter()
    sd = random_dinov3_state_dict('dinov3-vit-s16plus', 1, local_cls_norm=True)
    torch.save(sd, tmp_path / 'official.pth')
    folder = write_hub_folder(tmp_path / 'hub', to_hf_dinov3(sd), dict(
        HF_CONFIG['DINOv3'], hidden_size=384, num_attention_heads=6, rope_theta=100.0))
    x = torch.randn(1, 3, 32, 48, generator=torch.Generator().manual_seed(6))
    reference = build_v3('dinov3-vit-s16plus', tmp_path / 'official.pth')
    for src in (tmp_path / 'official.pth', folder):
        dst = tmp_path / f'{src.stem}_mmuss.pth'
        converter.main([str(src), str(dst)])
        converted = torch.load(dst)
        assert converted['meta']['variant'] == 'DINOv3 ViT-S+/16 with 4 registers'
        assert not any(k.startswith('local_cls_norm') for k in converted['state_dict'])
        assert_same_outputs(reference, build_v3('dinov3-vit-s16plus', dst), x)
    save_file(to_hf_dinov3(sd), str(tmp_path / 'bare.safetensors'))
    with pytest.raises(ValueError, match='without config.json'):
        converter.main([str(tmp_path / 'bare.safetensors'), str(tmp_path / 'x.pth')])
    dino = random_official_state_dict('dino-vit-s16', 1)
    converter.main([str(write_hub_folder(tmp_path / 'dino', to_hf_encoder(dino, 'DINO'))),
                    str(tmp_path / 'dino.pth')])
    assert set(torch.load(tmp_path / 'dino.pth')['state_dict']) == set(dino)
