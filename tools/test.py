"""Test (evaluate) a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [options]``."""
import argparse
from typing import List, Optional


import mmuss  # noqa: F401  (registers components; torch>=2.6 checkpoint loading)
from mmuss.apis.distributed import setup_cpu_distributed, teardown_distributed
from mmuss.apis.run_checks import check_checkpoint_keys, check_data_roots
from mmuss.apis.run_config import (add_reliability_hooks, build_runner, enable_out_dir,
                                   enable_show_dir, load_run_config)
from mmuss.apis.tool_args import add_checkpoint_args, add_launch_args, parse_tool_args


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and evaluate) a segmentor')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='dir for logs and the metric json')
    parser.add_argument(
        '--out', help='dir to save per-image cluster-id PNGs (clusters/), class-id PNGs '
        'through the cluster-to-class matching (classes/) and the metrics (metrics.json)')
    parser.add_argument('--show', action='store_true', help='show predictions')
    parser.add_argument('--show-dir', help='dir to save painted predictions')
    parser.add_argument('--wait-time', type=float, default=2, help='interval of --show (s)')
    parser.add_argument('--flip', action='store_true', help='horizontal-flip averaging')
    parser.add_argument('--crf', action='store_true', help='dense CRF refinement')
    parser.add_argument('--crf-workers', type=int, default=0,
                        help='CRF worker processes (0: in the test process)')
    add_checkpoint_args(parser)
    add_launch_args(parser)
    return parse_tool_args(parser, argv)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    cfg = load_run_config(args)
    cfg.load_from = args.checkpoint
    # A test run needs no training loop (mmengine builds one on the first runner.iter).
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper', 'param_scheduler'):
        cfg[key] = None
    if args.flip:
        cfg.model.setdefault('test_cfg', {})['flip'] = True
    if args.crf:
        cfg.model.setdefault('test_cfg', {})['crf'] = dict(num_workers=args.crf_workers)
    enable_show_dir(cfg, args.show_dir, args.show, args.wait_time)
    enable_out_dir(cfg, args.out)

    check_data_roots(cfg, ['test_dataloader'])
    add_reliability_hooks(cfg)
    setup_cpu_distributed(cfg, args.launcher)
    runner = build_runner(cfg)
    check_checkpoint_keys(runner.model, args.checkpoint, cfg.get('allow_shape_mismatch', False))
    metrics = runner.test()
    teardown_distributed(runner)
    return metrics


if __name__ == '__main__':
    main()
