"""Test (evaluate) a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [options]``."""
import argparse
import os
import os.path as osp
from typing import List, Optional

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mmuss  # noqa: F401  (registers components; torch>=2.6 checkpoint loading)
from mmuss.utils import (check_checkpoint_keys, check_data_roots, enable_show_dir,
                         setup_cpu_distributed)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and evaluate) a segmentor')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='dir for logs and the metric json')
    parser.add_argument('--show', action='store_true', help='show predictions')
    parser.add_argument('--show-dir', help='dir to save painted predictions')
    parser.add_argument('--wait-time', type=float, default=2, help='interval of --show (s)')
    parser.add_argument('--flip', action='store_true', help='horizontal-flip averaging')
    parser.add_argument('--crf', action='store_true', help='dense CRF refinement')
    parser.add_argument('--crf-workers', type=int, default=0,
                        help='CRF worker processes (0: in the test process)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, e.g. test_dataloader.batch_size=4')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.flip:
        cfg.model.setdefault('test_cfg', {})['flip'] = True
    if args.crf:
        cfg.model.setdefault('test_cfg', {})['crf'] = dict(num_workers=args.crf_workers)
    enable_show_dir(cfg, args.show_dir, args.show, args.wait_time)

    check_data_roots(cfg, ['test_dataloader'])
    setup_cpu_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    check_checkpoint_keys(runner.model, args.checkpoint)
    return runner.test()


if __name__ == '__main__':
    main()
