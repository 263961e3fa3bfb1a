"""Train an mmuss (or any mmseg) model: ``python tools/train.py CONFIG [options]``."""
import argparse
import logging
from typing import List, Optional

from mmengine.logging import print_log
from mmengine.runner import Runner

import mmuss  # noqa: F401  (registers components; torch>=2.6 checkpoint loading)
from mmuss.utils.run_setup import (add_launch_args, build_runner, check_checkpoint_keys,
                                   check_data_roots, load_run_config, parse_tool_args,
                                   setup_cpu_distributed, teardown_distributed)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', const='auto', default=None, metavar='CHECKPOINT',
        help='resume from CHECKPOINT, or from the latest checkpoint in the work dir '
        'when no path is given')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    add_launch_args(parser)
    return parse_tool_args(parser, argv)


def main(argv: Optional[List[str]] = None) -> Runner:
    args = parse_args(argv)
    cfg = load_run_config(args)

    if args.amp:
        optim_wrapper = cfg.optim_wrapper.type
        if optim_wrapper == 'AmpOptimWrapper':
            print_log('AMP training is already enabled in the config.', logger='current',
                      level=logging.WARNING)
        else:
            if optim_wrapper != 'OptimWrapper':
                raise ValueError(f'--amp supports OptimWrapper only, not {optim_wrapper}.')
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    check_data_roots(cfg, ['train_dataloader', 'val_dataloader'])  # test data is not used
    setup_cpu_distributed(cfg, args.launcher)
    runner = build_runner(cfg)
    if cfg.get('load_from') and not cfg.get('resume', False):
        check_checkpoint_keys(runner.model, cfg.load_from)
    runner.train()
    teardown_distributed()
    return runner


if __name__ == '__main__':
    main()
