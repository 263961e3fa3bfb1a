"""Every layout ``transformers`` 4.5x / 5.x writes for DINO, DINOv2 (+ registers) and DINOv3 loads.

Random official weights are mapped by hand (``to_hf_encoder`` / ``to_hf_dinov3``,
written from the hub conversion scripts) into the keys each transformers class
holds, then saved as a model's ``state_dict()`` would be (``torch.save`` to
``.bin`` / ``.pth``, ``safetensors.save_file`` to ``.safetensors``):

- the base models (``ViTModel`` with its pooler, ``Dinov2Model`` /
  ``Dinov2Backbone``, ``Dinov2WithRegistersModel``, ``DINOv3ViTModel``);
- the task models, whose base model sits under ``base_model_prefix``
  (``vit.``, ``dinov2.``, ``dinov2_with_registers.``) next to their head;
- ``ViTForMaskedImageModeling``'s extra ``mask_token`` and decoder;
- ``DINOv3ViTModel`` of transformers 5, whose layers are ``model.layer.N``
  (``save_pretrained`` and 4.5x write ``layer.N``), bare or in a ``model.``
  wrapper.

The loaded backbone must hold exactly the source weights and give the outputs
of the backbone loaded from the official ``.pth``.
"""
import json
import re

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


def v5_nesting(state: dict) -> dict:
    """transformers 5's ``DINOv3ViTModel``: the layers live in the encoder module ``model``."""
    return {re.sub(r'^layer\.', 'model.layer.', key): value for key, value in state.items()}


def encoder_layouts(hf: dict, family: str) -> dict:
    """What each transformers class of ``family`` holds, from the ``*Model`` keys ``hf``."""
    if family == 'DINO':
        pooled = dict(hf, **head('pooler.dense', DIMS))  # ViTModel(add_pooling_layer=True)
        mim = dict(hf, **{'embeddings.mask_token': torch.zeros(1, 1, DIMS)})
        return {'ViTModel': pooled,
                'ViTForImageClassification': dict(prefixed('vit.', hf),
                                                  **head('classifier', 1000)),
                'ViTForMaskedImageModeling': dict(prefixed('vit.', mim),
                                                  **head('decoder.0', 3 * 8 * 8))}
    task = 'dinov2.' if family == 'DINOv2' else 'dinov2_with_registers.'
    return {'Model': hf,
            'ForImageClassification': dict(prefixed(task, hf), **head('classifier', 1000))}


def dinov3_layouts(hf: dict) -> dict:
    return {'4.5x state_dict / save_pretrained': hf,
            '5.x state_dict': v5_nesting(hf),
            '5.x in a model. wrapper': prefixed('model.', v5_nesting(hf))}


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
