"""Convert a DINO / DINOv2 / DINOv3 checkpoint (any supported format) into mmuss format.

Accepts what :mod:`mmuss.models.backbones.vit.dino_checkpoint` reads: DINO v1
``*_pretrain.pth`` and full ``teacher``/``student`` checkpoints, DINOv2 hub
and training checkpoints (chunked blocks), DINOv3 hub ``.pth`` files, timm ViT
state dicts (paths or URLs), and the Hugging Face ``transformers`` 4.5x / 5.x
layouts of DINO (``ViTModel``), DINOv2 (``Dinov2Model``,
``Dinov2WithRegistersModel``) and DINOv3 (``DINOv3ViTModel``) as a hub folder
(``config.json`` + ``model.safetensors``) or a ``state_dict()`` file
(``.safetensors``, ``.bin``, ``.pth``; task-model prefixes allowed). Writes
``{'state_dict': <official key layout>, 'meta': {...}}``, which the DINO
backbones load with ``init_cfg=dict(type='Pretrained', checkpoint=dst)``.

Examples::

    python tools/model_converters/dino2mmuss.py \\
        https://dl.fbaipublicfiles.com/dino/dino_deitsmall8_pretrain/dino_deitsmall8_pretrain.pth \\
        checkpoints/dino_vit-s8_mmuss.pth
    python tools/model_converters/dino2mmuss.py \\
        ~/hf/dinov3-vitb16-pretrain-lvd1689m checkpoints/dinov3_vit-b16_mmuss.pth
"""
import argparse
import os.path as osp
from typing import List, Optional

import torch
from mmengine.utils import mkdir_or_exist

from mmuss.models.backbones.vit.dino_checkpoint import (official_state_dict, read_any_checkpoint,
                                                variant_of_state_dict)
from mmuss.apis.tool_args import add_trust_checkpoint_arg
from mmuss.utils.fileio import atomic_write


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert DINO/DINOv2/DINOv3 weights to mmuss format.')
    parser.add_argument('src', help='checkpoint path or URL, .safetensors file or HF model folder')
    parser.add_argument('dst', help='output .pth path')
    parser.add_argument('--checkpoint-key', default='teacher', choices=('teacher', 'student'),
                        help='which network of a full training checkpoint to take')
    add_trust_checkpoint_arg(parser)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    source = f'checkpoint {args.src!r}'
    checkpoint, hf_config = read_any_checkpoint(args.src)
    state_dict = official_state_dict(checkpoint, args.checkpoint_key, source, hf_config)
    variant = variant_of_state_dict(state_dict, source)
    if variant.family == 'DINOv3' and 'rope_embed.periods' not in state_dict:
        raise ValueError(f'{source} is a Hugging Face DINOv3 checkpoint without config.json: its '
                         'RoPE periods need rope_theta and num_attention_heads. Convert the hub '
                         'folder (config.json + model.safetensors) instead.')
    mkdir_or_exist(osp.dirname(osp.abspath(args.dst)))
    meta = dict(variant=variant.name, description=variant.describe(), source=args.src,
                checkpoint_key=args.checkpoint_key)
    atomic_write(args.dst, lambda tmp: torch.save(dict(state_dict=state_dict, meta=meta), tmp))
    print(f'{args.src} -> {args.dst}: {variant.describe()}, {len(state_dict)} tensors')


if __name__ == '__main__':
    main()
