"""Train an mmuss (or any mmseg) model: ``python tools/train.py CONFIG [options]``."""
import argparse
import logging
import os
import os.path as osp
from typing import List, Optional

from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mmuss  # noqa: F401  (registers components; torch>=2.6 checkpoint loading)
from mmuss.utils import check_checkpoint_keys, check_data_roots, setup_cpu_distributed


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', const='auto', default=None, metavar='CHECKPOINT',
        help='resume from CHECKPOINT, or from the latest checkpoint in the work dir '
        'when no path is given')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, e.g. train_cfg.max_iters=100')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv: Optional[List[str]] = None) -> Runner:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])

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

    check_data_roots(cfg)
    setup_cpu_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    if cfg.get('load_from') and not cfg.get('resume', False):
        check_checkpoint_keys(runner.model, cfg.load_from)
    runner.train()
    return runner


if __name__ == '__main__':
    main()
