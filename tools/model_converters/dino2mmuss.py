"""Convert a DINO / DINOv2 checkpoint (any supported format) into mmuss format.

Accepts what :mod:`mmuss.models.utils.dino_checkpoint` reads: DINO v1
``*_pretrain.pth`` and full ``teacher``/``student`` checkpoints, DINOv2 hub
and training checkpoints (chunked blocks), timm ViT state dicts; paths or URLs.
Writes ``{'state_dict': <official key layout>, 'meta': {...}}``, which the
DINO backbones load with ``init_cfg=dict(type='Pretrained', checkpoint=dst)``.

Example::

    python tools/model_converters/dino2mmuss.py \\
        https://dl.fbaipublicfiles.com/dino/dino_deitsmall8_pretrain/dino_deitsmall8_pretrain.pth \\
        checkpoints/dino_vit-s8_mmuss.pth
"""
import argparse
import os.path as osp
from typing import List, Optional

import torch
from mmengine.utils import mkdir_or_exist

from mmuss.models.utils.dino_checkpoint import (official_state_dict, read_checkpoint,
                                                variant_of_state_dict)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Convert DINO/DINOv2 weights to mmuss format.')
    parser.add_argument('src', help='checkpoint path or URL')
    parser.add_argument('dst', help='output .pth path')
    parser.add_argument('--checkpoint-key', default='teacher', choices=('teacher', 'student'),
                        help='which network of a full training checkpoint to take')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    source = f'checkpoint {args.src!r}'
    state_dict = official_state_dict(read_checkpoint(args.src), args.checkpoint_key, source)
    variant = variant_of_state_dict(state_dict, source)
    mkdir_or_exist(osp.dirname(osp.abspath(args.dst)))
    meta = dict(variant=variant.name, description=variant.describe(), source=args.src,
                checkpoint_key=args.checkpoint_key)
    torch.save(dict(state_dict=state_dict, meta=meta), args.dst)
    print(f'{args.src} -> {args.dst}: {variant.describe()}, {len(state_dict)} tensors')


if __name__ == '__main__':
    main()
