"""Train an mmuss (or any mmseg) model: ``python tools/train.py CONFIG [options]``."""
import argparse
import logging
from typing import List, Optional

from mmengine.logging import print_log
from mmengine.runner import Runner

import mmuss  # noqa: F401  (registers components; torch>=2.6 checkpoint loading)
from mmuss.apis.distributed import setup_cpu_distributed, teardown_distributed
from mmuss.apis.run_checks import check_checkpoint_keys, check_data_roots, check_train_batches
from mmuss.apis.run_config import add_reliability_hooks, build_runner, load_run_config, setup_amp
from mmuss.apis.tool_args import add_checkpoint_args, add_launch_args, parse_tool_args
from mmuss.utils.checkpoint import newest_intact_checkpoint


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', const='auto', default=None, metavar='CHECKPOINT',
        help='resume from CHECKPOINT, or from the latest intact checkpoint in the work dir '
        'when no path is given')
    parser.add_argument(
        '--amp', action='store_true',
        help='mixed precision: fp16 autocast with dynamic loss scaling (mmengine\'s '
        'AmpOptimWrapper) on a CUDA GPU; refused on CPU (train without it there)')
    add_checkpoint_args(parser)
    add_launch_args(parser)
    return parse_tool_args(parser, argv)


def main(argv: Optional[List[str]] = None) -> Runner:
    args = parse_args(argv)
    cfg = load_run_config(args)
    if args.amp:
        setup_amp(cfg)

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = newest_intact_checkpoint(cfg.work_dir)
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if cfg.get('resume') and cfg.get('load_from'):
        print_log(f'Resuming from {cfg.load_from}', logger='current', level=logging.INFO)

    check_data_roots(cfg, ['train_dataloader', 'val_dataloader'])  # test data is not used
    add_reliability_hooks(cfg)
    setup_cpu_distributed(cfg, args.launcher)
    runner = build_runner(cfg)
    if cfg.get('load_from'):
        check_checkpoint_keys(runner.model, cfg.load_from, cfg.get('allow_shape_mismatch', False))
    check_train_batches(runner)
    runner.train()
    teardown_distributed(runner)
    return runner


if __name__ == '__main__':
    main()
