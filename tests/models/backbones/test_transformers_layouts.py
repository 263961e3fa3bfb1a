"""Every layout ``transformers`` 4.5x / 5.x writes for DINO, DINOv2 (+ registers) and DINOv3 loads.

Random official weights are mapped by hand (``to_hf_encoder`` / ``to_hf_dinov3``,
written from the hub conversion scripts) into the keys each transformers class
holds, then saved as a model's ``state_dict()`` would be (``torch.save`` to
``.bin`` / ``.pth``, ``safetensors.save_file`` to ``.safetensors``):

- the base models (``ViTModel`` with its pooler, ``Dinov2Model`` /
  ``Dinov2Backbone``, ``Dinov2WithRegistersModel``, ``DINOv3ViTModel``) in the
  hub layout, which 4.5x modules hold and every ``save_pretrained`` writes;
- transformers 5's own module layouts: ``ViTModel``'s ``layers.N`` with
  ``q/k/v/o_proj`` and ``mlp.fc1/fc2``, ``DINOv3ViTModel``'s ``model.layer.N``
  (also inside a ``model.`` wrapper);
- the task models, whose base model sits under ``base_model_prefix``
  (``vit.``, ``dinov2.``, ``dinov2_with_registers.``) next to their head, and
  ``ViTForMaskedImageModeling``'s extra ``mask_token`` and decoder.

The loaded backbone must hold exactly the source weights and give the outputs
of the backbone loaded from the official ``.pth``. The key names of each
layout are those transformers 5.17.0 wrote for tiny random models
(``transformers_5_17_keys.json``); on those very files mmuss's loaded
backbones matched transformers' own forward pass within 7e-7.
"""
import json
import re
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from mmuss.models.backbones import (DinoV2VisionTransformer, DinoV3VisionTransformer,
                                    DinoVisionTransformer)
from .dino_reference import OFFICIAL, random_official_state_dict
from .dinov3_reference import random_dinov3_state_dict, to_hf_dinov3, to_hf_encoder

DIMS = 384


def head(name: str, rows: int) -> dict:
    return {f'{name}.weight': torch.randn(rows, DIMS), f'{name}.bias': torch.randn(rows)}


def prefixed(prefix: str, state: dict) -> dict:
    return {prefix + key: value for key, value in state.items()}


def renamed(state: dict, renames) -> dict:
    out = {}
    for key, value in state.items():
        for pattern, replacement in renames:
            key, count = re.subn(pattern, replacement, key)
            if count:
                break
        out[key] = value
    return out


def v5_nesting(state: dict) -> dict:
    """transformers 5's ``DINOv3ViTModel``: the layers live in the encoder module ``model``."""
    return renamed(state, [(r'^layer\.', 'model.layer.')])


def vit_v5(state: dict) -> dict:
    """transformers 5's ``ViTModel`` modules, from the hub layout."""
    return renamed(state, [
        (r'^encoder\.layer\.(\d+)\.attention\.attention\.query\.', r'layers.\1.attention.q_proj.'),
        (r'^encoder\.layer\.(\d+)\.attention\.attention\.key\.', r'layers.\1.attention.k_proj.'),
        (r'^encoder\.layer\.(\d+)\.attention\.attention\.value\.', r'layers.\1.attention.v_proj.'),
        (r'^encoder\.layer\.(\d+)\.attention\.output\.dense\.', r'layers.\1.attention.o_proj.'),
        (r'^encoder\.layer\.(\d+)\.intermediate\.dense\.', r'layers.\1.mlp.fc1.'),
        (r'^encoder\.layer\.(\d+)\.output\.dense\.', r'layers.\1.mlp.fc2.'),
        (r'^encoder\.layer\.(\d+)\.', r'layers.\1.')])


def encoder_layouts(hf: dict, family: str) -> dict:
    """What each transformers class of ``family`` holds, from the hub-layout keys ``hf``."""
    classifier = head('classifier', 1000)
    if family == 'DINO':
        pooler = head('pooler.dense', DIMS)  # ViTModel(add_pooling_layer=True)
        mim = dict(hf, **{'embeddings.mask_token': torch.zeros(1, 1, DIMS)})
        return {'ViTModel save_pretrained': dict(hf, **pooler),
                'ViTModel state_dict': dict(vit_v5(hf), **pooler),
                'ViTForImageClassification state_dict': dict(prefixed('vit.', vit_v5(hf)),
                                                             **classifier),
                'ViTForImageClassification 4.5x state_dict': dict(prefixed('vit.', hf),
                                                                  **classifier),
                'ViTForMaskedImageModeling 4.5x state_dict': dict(
                    prefixed('vit.', mim), **head('decoder.0', 3 * 8 * 8))}
    model = 'Dinov2' if family == 'DINOv2' else 'Dinov2WithRegisters'
    task = 'dinov2.' if family == 'DINOv2' else 'dinov2_with_registers.'
    return {f'{model}Model state_dict': hf,
            f'{model}ForImageClassification state_dict': dict(prefixed(task, hf), **classifier)}


def dinov3_layouts(hf: dict) -> dict:
    return {'DINOv3ViTModel save_pretrained': hf,
            'DINOv3ViTModel state_dict': v5_nesting(hf),
            'DINOv3ViTModel state_dict in a model. wrapper': prefixed('model.', v5_nesting(hf))}


def write(path, state: dict):
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == '.safetensors':
        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    else:
        torch.save(state, path)
    return path


def build(name: str, checkpoint):
    init = dict(type='Pretrained', checkpoint=str(checkpoint))
    if name.startswith('dinov3'):
        arch = dict(DinoV3VisionTransformer.arch_zoo['small'], num_layers=1)
        model = DinoV3VisionTransformer(arch=arch, out_attn=True, out_cls_token=True,
                                        init_cfg=init)
    else:
        family, dims, _, heads, patch, regs, ffn = OFFICIAL[name]
        common = dict(arch=dict(embed_dims=dims, num_layers=1, num_heads=heads, ffn_type=ffn),
                      patch_size=patch, out_attn=True, out_cls_token=True, init_cfg=init)
        model = (DinoVisionTransformer(**common) if family == 'DINO' else
                 DinoV2VisionTransformer(num_register_tokens=regs, **common))
    model.init_weights()
    return model.eval()


def assert_loaded(name, official_sd, tmp_path, checkpoint, x):
    reference = build(name, write(tmp_path / 'official.pth', official_sd))
    model = build(name, checkpoint)
    loaded = model.state_dict()
    assert set(loaded) == set(official_sd)
    for key, value in official_sd.items():
        if key.endswith('attn.qkv.bias') and name.startswith('dinov3'):
            # the hub drops the key bias, which the official model masks out anyway
            mask = official_sd[key + '_mask']
            assert torch.equal(loaded[key] * mask, value * mask), key
        else:
            assert torch.equal(loaded[key], value), key
    ours, theirs = model(x), reference(x)
    assert torch.equal(ours[0], theirs[0]) and torch.equal(ours.attn, theirs.attn)
    assert torch.equal(ours.cls_token, theirs.cls_token)


CASES = [(name, layout) for name, family in (('dino-vit-s8', 'DINO'),
                                             ('dinov2-vit-s14', 'DINOv2'),
                                             ('dinov2-vit-s14-reg4', 'DINOv2-reg'))
         for layout in encoder_layouts({}, family)]
CASES += [('dinov3-vit-s16', layout) for layout in dinov3_layouts({})]


@pytest.mark.parametrize('suffix', ['.bin', '.pth', '.safetensors'])
@pytest.mark.parametrize('name,layout', CASES)
def test_transformers_layout_loads_the_source_weights(tmp_path, name, layout, suffix):
    if name.startswith('dinov3'):
        sd = random_dinov3_state_dict(name, 1)
        state = dinov3_layouts(to_hf_dinov3(sd))[layout]
        x = torch.randn(1, 3, 32, 48, generator=torch.Generator().manual_seed(1))
    else:
        sd = random_official_state_dict(name, 1)
        family = OFFICIAL[name][0] if 'reg4' not in name else 'DINOv2-reg'
        state = encoder_layouts(to_hf_encoder(sd, OFFICIAL[name][0]), family)[layout]
        patch = OFFICIAL[name][4]
        x = torch.randn(1, 3, 4 * patch, 6 * patch, generator=torch.Generator().manual_seed(1))
    checkpoint = write(tmp_path / 'file' / f'weights{suffix}', state)
    assert_loaded(name, sd, tmp_path, checkpoint, x)


def layout_names(state: dict) -> list:
    return sorted({re.sub(r'\.\d+\.', '.N.', key) for key in state})


def test_layouts_are_the_ones_transformers_5_17_writes():
    seen = json.loads((Path(__file__).parent / 'transformers_5_17_keys.json').read_text())
    ours = {}
    for name, family in (('dino-vit-s8', 'DINO'), ('dinov2-vit-s14', 'DINOv2'),
                         ('dinov2-vit-s14-reg4', 'DINOv2-reg')):
        hf = to_hf_encoder(random_official_state_dict(name, 1), OFFICIAL[name][0])
        ours.update(encoder_layouts(hf, family))
    ours.update(dinov3_layouts(to_hf_dinov3(random_dinov3_state_dict('dinov3-vit-s16', 1))))
    checked = [name for name in seen if name in ours]
    assert len(checked) == len(seen) - 3  # all but '_about' and the two Dinov2 save_pretrained
    for name in checked:
        assert layout_names(ours[name]) == seen[name], name
    for model in ('Dinov2Model', 'Dinov2WithRegistersModel'):  # the hub layout in 5.17 too
        assert seen[f'{model} save_pretrained'] == seen[f'{model} state_dict']


def test_dinov3_bin_reads_the_config_beside_it(tmp_path):
    """A ``pytorch_model.bin`` takes the RoPE periods from the ``config.json`` beside it."""
    sd = random_dinov3_state_dict('dinov3-vit-s16', 1)
    checkpoint = write(tmp_path / 'hub' / 'pytorch_model.bin', v5_nesting(to_hf_dinov3(sd)))
    (tmp_path / 'hub' / 'config.json').write_text(json.dumps(dict(
        model_type='dinov3_vit', hidden_size=DIMS, num_attention_heads=6, rope_theta=50.0)))
    model = build('dinov3-vit-s16', checkpoint)
    expected = 50.0 ** (2 * torch.arange(16, dtype=torch.float32) / 32)  # base^(2k/(d/2))
    torch.testing.assert_close(model.rope_embed.periods, expected)


@pytest.mark.parametrize('keys', [
    {'conv1.weight': torch.zeros(2, 3, 7, 7), 'layer1.0.bn1.weight': torch.zeros(2)},
    {'encoder.embeddings.cls_token': torch.zeros(1, 1, DIMS),
     'encoder.layer.0.mlp.fc1.weight': torch.zeros(4, DIMS)},
])
def test_unrecognised_layout_names_file_keys_and_accepted_layouts(tmp_path, keys):
    path = write(tmp_path / 'foreign.pth', keys)
    with pytest.raises(KeyError) as err:
        build('dino-vit-s8', path)
    msg = str(err.value)
    assert 'foreign.pth' in msg and 'not a DINO/DINOv2 ViT state dict' in msg
    assert all(key in msg for key in keys)
    for layout in ('official DINO / DINOv2 / DINOv3', 'timm ViT', 'transformers ViTModel',
                   'transformers DINOv3ViTModel', 'model.layer.N', 'mmuss format'):
        assert layout in msg
