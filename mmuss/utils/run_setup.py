"""Config checks and environment set-up shared by tools/train.py and tools/test.py."""
import argparse
import os
import os.path as osp
from typing import Iterable, List, Optional

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import CheckpointLoader, Runner
from mmengine.utils import import_modules_from_strings



def add_launch_args(parser: argparse.ArgumentParser) -> None:
    """``--cfg-options``, ``--launcher`` and ``--local-rank``, shared by the tools."""
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, e.g. train_cfg.max_iters=100')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_tool_args(parser: argparse.ArgumentParser,
                    argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse, and export ``LOCAL_RANK`` for launchers that pass ``--local-rank``."""
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def load_run_config(args: argparse.Namespace) -> Config:
    """Config from ``args.config`` with ``--cfg-options``, launcher and work dir applied.

    The work dir defaults to ``./work_dirs/<config name>`` as in mmseg.
    """
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
        if 'custom_imports' in args.cfg_options:
            import_modules_from_strings(**cfg.custom_imports)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


def build_runner(cfg: Config) -> Runner:
    """mmengine's runner, or the config's ``runner_type``."""
    return Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)


def _dataset_cfgs(cfg: Config, keys: Iterable[str]) -> Iterable[dict]:
    for key in keys:
        loader = cfg.get(key)
        if not loader or 'dataset' not in loader:
            continue
        stack = [loader['dataset']]
        while stack:
            ds = stack.pop()
            if isinstance(ds, (list, tuple)):
                stack.extend(ds)
                continue
            yield ds
            for child in ('dataset', 'datasets'):
                if child in ds:
                    stack.append(ds[child])


def check_data_roots(cfg: Config, keys: Iterable[str]) -> None:
    """Fail early, naming the path, when a dataset's ``data_root`` does not exist."""
    for ds in _dataset_cfgs(cfg, keys):
        root = ds.get('data_root')
        if root and not osp.isdir(root):
            raise FileNotFoundError(
                f'data_root {root!r} of {ds.get("type", "dataset")} does not exist; '
                f'set it in the config or with --cfg-options.')


def check_checkpoint_keys(model: torch.nn.Module, filename: str) -> None:
    """Fail, listing the keys, when a checkpoint does not fit ``model`` exactly."""
    ckpt = CheckpointLoader.load_checkpoint(filename, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f'{filename} holds no state dict.')
    expected = set(model.state_dict())
    found = {k[len('module.'):] if k.startswith('module.') else k for k in state}
    missing, unexpected = sorted(expected - found), sorted(found - expected)
    if missing or unexpected:
        raise KeyError(f'Checkpoint {filename} does not match the model: '
                       f'missing keys {missing[:20]}{" ..." if len(missing) > 20 else ""}, '
                       f'unexpected keys {unexpected[:20]}'
                       f'{" ..." if len(unexpected) > 20 else ""}.')


def setup_cpu_distributed(cfg: Config, launcher: str) -> None:
    """Make ``--launcher pytorch`` work on CPU-only machines (gloo, no device ids).

    mmengine's launcher sets a CUDA device and wraps DDP with ``device_ids``;
    neither exists without CUDA. We initialise the gloo process group
    ourselves (mmengine then skips its own initialisation) and let DDP run on
    CPU.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return
    import torch.distributed as dist
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or {}
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper['device_ids'] = None  # overrides mmengine's default [LOCAL_RANK]
    wrapper.setdefault('find_unused_parameters', cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg = wrapper
    if launcher == 'pytorch' and not dist.is_initialized():
        dist.init_process_group(backend='gloo', rank=int(os.environ['RANK']),
                                world_size=int(os.environ['WORLD_SIZE']))


def teardown_distributed() -> None:
    """Wait for every rank, then destroy the process group.

    Leaving it to interpreter exit lets gloo's background threads die
    mid-operation ("terminate called without an active exception").
    """
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def enable_show_dir(cfg: Config, show_dir: Optional[str], show: bool = False,
                    wait_time: float = 2) -> None:
    """Turn on mmseg's visualization hook to draw predictions into ``show_dir``."""
    if not show and not show_dir:
        return
    hooks = cfg.setdefault('default_hooks', {})
    if 'visualization' not in hooks:
        raise KeyError('--show/--show-dir need default_hooks.visualization '
                       '(SegVisualizationHook) in the config.')
    vis = hooks['visualization']
    vis['draw'] = True
    vis.setdefault('interval', 1)
    if show:
        vis['show'] = True
        vis['wait_time'] = wait_time
    if show_dir:
        cfg.visualizer['save_dir'] = show_dir
