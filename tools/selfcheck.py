"""Check an install: every method's shipped config trains, validates and predicts here.

``python tools/selfcheck.py [--device cuda] [--methods ...] [--amp fp16|bf16|none]``

For each method, its representative shipped config (``--configs`` overrides)
runs ``--iters`` timed training iterations after ``--warmup`` untimed ones,
then one validation batch and one inference call, on synthetic images with
random backbone weights (no dataset, no download; what is synthesised is
listed under ``synthesised`` in the output, and in
``mmuss.apis.selfcheck.SYNTHESISED``). Precision is each config's own
(``AmpOptimWrapper`` fp16; on CPU, bf16 autocast) unless ``--amp`` says
otherwise. Then each backbone's frozen forward is timed in fp32 and bf16.

Prints a progress line per method on stderr and ONE JSON line on stdout;
exits 1 when any method or backbone fails.

Defaults: on CUDA the configs' crop and batch sizes, 2 + 5 iterations,
backbone batch 16 × 10 forwards; on CPU ``--crop 112 --batch 2``, 0 + 1
iteration, backbone batch 1 × 1 forward (112 is a multiple of the /8, /14
and /16 patches).
"""
import argparse
import json
import sys
from typing import List, Optional

import torch
from mmengine.config import DictAction

import mmuss  # noqa: F401  (registers components)
from mmuss.apis.selfcheck import BACKBONE_CONFIGS, METHOD_CONFIGS, run_selfcheck
from mmuss.apis.tool_output import logs_to_stderr

# (iters, warmup, crop, batch, backbone batch, backbone iters, backbone warmup)
DEFAULTS = dict(cuda=(5, 2, None, None, 16, 10, 3), cpu=(1, 0, 112, 2, 1, 1, 0))


def method_config(item: str) -> tuple:
    """``METHOD=CONFIG`` → ``(METHOD, CONFIG)``."""
    method, sep, config = item.partition('=')
    if not sep or not method or not config:
        raise argparse.ArgumentTypeError(f'expected METHOD=CONFIG, got {item!r}')
    return method, config


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.splitlines()[2:]))
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu',
                        help='cpu, cuda or cuda:N (default: cuda when available)')
    parser.add_argument('--methods', nargs='+', default=list(METHOD_CONFIGS),
                        help=f'methods to check (default: all of {list(METHOD_CONFIGS)})')
    parser.add_argument('--configs', nargs='+', default=[], metavar='METHOD=CONFIG',
                        type=method_config,
                        help='config file of a method instead of its representative one')
    parser.add_argument('--amp', choices=('config', 'fp16', 'bf16', 'none'), default='config',
                        help="training precision (default: each config's own)")
    parser.add_argument('--iters', type=int, help='timed training iterations per method')
    parser.add_argument('--warmup', type=int, help='untimed training iterations before them')
    parser.add_argument('--crop', type=int,
                        help="every pipeline resize/crop and the preprocessor's size (default: "
                        "the configs' on CUDA, 112 on CPU)")
    parser.add_argument('--batch', type=int,
                        help="train and val batch size (default: the configs' on CUDA, 2 on CPU)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of every checked config, as in tools/train.py')
    parser.add_argument('--backbones', nargs='*', default=list(BACKBONE_CONFIGS),
                        choices=list(BACKBONE_CONFIGS), help='backbones to time (none: skip)')
    parser.add_argument('--backbone-batch', type=int, help='images per timed backbone forward')
    parser.add_argument('--backbone-iters', type=int, help='timed forwards per precision')
    parser.add_argument('--backbone-warmup', type=int, help='untimed forwards before them')
    args = parser.parse_args(argv)
    unknown = sorted(set(args.methods) - set(METHOD_CONFIGS) - {m for m, _ in args.configs})
    if unknown:
        parser.error(f'unknown methods {unknown}: give their configs with --configs METHOD=FILE')
    defaults = DEFAULTS['cpu' if args.device == 'cpu' else 'cuda']
    names = ('iters', 'warmup', 'crop', 'batch', 'backbone_batch', 'backbone_iters',
             'backbone_warmup')
    for name, default in zip(names, defaults):
        if getattr(args, name) is None:
            setattr(args, name, default)
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    logs_to_stderr()
    configs = dict(args.configs)
    result = run_selfcheck(
        args.methods, args.device, args.iters, args.warmup,
        amp=None if args.amp == 'config' else args.amp, crop=args.crop, batch=args.batch,
        cfg_options=args.cfg_options, configs=configs, backbones=args.backbones,
        backbone_batch=args.backbone_batch, backbone_iters=args.backbone_iters,
        backbone_warmup=args.backbone_warmup,
        progress=lambda line: print(f'[selfcheck] {line}', file=sys.stderr, flush=True))
    print(json.dumps(result), flush=True)
    return 0 if result['passed'] else 1


if __name__ == '__main__':
    sys.exit(main())
