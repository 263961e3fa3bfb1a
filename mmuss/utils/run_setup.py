"""Config checks and environment set-up shared by tools/train.py and tools/test.py."""
import argparse
import datetime
import gc
import logging
import os
import os.path as osp
from typing import Iterable, List, Optional, Tuple

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner
from mmengine.utils import import_modules_from_strings

from .cfg_options import merge_cfg_options
from .checkpoint import TRUST_ENV, checkpoint_state_dict
from .model_wrapper import unwrap_model


def add_cfg_options_arg(parser: argparse.ArgumentParser) -> None:
    """``--cfg-options``, shared by every tool that reads a config."""
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, e.g. data_root=/data/x train_cfg.max_iters=100')


def add_launch_args(parser: argparse.ArgumentParser) -> None:
    """``--cfg-options``, ``--launcher`` and ``--local-rank``, shared by the tools."""
    add_cfg_options_arg(parser)
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


class TrustCheckpointAction(argparse.Action):
    """``--trust-checkpoint``: sets ``MMUSS_TRUST_CHECKPOINTS=1`` as soon as it is parsed."""

    def __init__(self, option_strings: List[str], dest: str, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, default=False, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        os.environ[TRUST_ENV] = '1'
        setattr(namespace, self.dest, True)


def add_trust_checkpoint_arg(parser: argparse.ArgumentParser) -> None:
    """``--trust-checkpoint``, which every tool that reads checkpoints takes."""
    parser.add_argument(
        '--trust-checkpoint', action=TrustCheckpointAction,
        help=f'unpickle local checkpoints that torch\'s safe loader refuses (sets {TRUST_ENV}=1;'
        ' config: trust_checkpoint = True). Only for files you trust: unpickling runs code')


def add_checkpoint_args(parser: argparse.ArgumentParser) -> None:
    """``--trust-checkpoint`` and ``--allow-shape-mismatch``, shared by train and test."""
    add_trust_checkpoint_arg(parser)
    parser.add_argument(
        '--allow-shape-mismatch', action='store_true',
        help='load a checkpoint whose tensor shapes differ from the model, keeping the '
        "model's values there (config: allow_shape_mismatch = True)")


def parse_tool_args(parser: argparse.ArgumentParser,
                    argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse, and export ``LOCAL_RANK`` for launchers that pass ``--local-rank``."""
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def load_run_config(args: argparse.Namespace) -> Config:
    """Config from ``args.config`` with ``--cfg-options``, launcher, work dir and checkpoint
    options applied.

    The work dir defaults to ``./work_dirs/<config name>`` as in mmseg.
    """
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg = merge_cfg_options(cfg, args.cfg_options)
        if 'custom_imports' in args.cfg_options:
            import_modules_from_strings(**cfg.custom_imports)
        drop_null_loss_scale(cfg)
    if getattr(args, 'trust_checkpoint', False) or cfg.get('trust_checkpoint', False):
        os.environ[TRUST_ENV] = '1'
    if getattr(args, 'allow_shape_mismatch', False):
        cfg.allow_shape_mismatch = True
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


def drop_null_loss_scale(cfg: Config) -> None:
    """Remove ``optim_wrapper.loss_scale=None`` from a plain ``OptimWrapper``.

    ``--cfg-options optim_wrapper.type=OptimWrapper optim_wrapper.loss_scale=None`` is how an
    AMP config (e.g. CAUSE's) trains on a CPU; options cannot delete a key, and mmengine's
    ``OptimWrapper`` takes no ``loss_scale``.
    """
    wrapper = cfg.get('optim_wrapper')
    if (isinstance(wrapper, dict) and wrapper.get('type') == 'OptimWrapper'
            and 'loss_scale' in wrapper and wrapper['loss_scale'] is None):
        del wrapper['loss_scale']


def build_runner(cfg: Config) -> Runner:
    """mmengine's runner, or the config's ``runner_type``."""
    return Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)


def _dataset_cfgs(cfg: Config, keys: Iterable[str]) -> Iterable[Tuple[str, dict]]:
    """``(dataloader key, dataset config)`` of every (wrapped) dataset of those loaders."""
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
            yield key, ds
            for child in ('dataset', 'datasets'):
                if child in ds:
                    stack.append(ds[child])


def check_data_roots(cfg: Config, keys: Iterable[str]) -> None:
    """Fail early, naming the dataloader and path, when a ``data_root`` does not exist."""
    for key, ds in _dataset_cfgs(cfg, keys):
        root = ds.get('data_root')
        if root and not osp.isdir(root):
            raise FileNotFoundError(
                f'data_root {root!r} of the {ds.get("type", "dataset")} in {key} does not '
                f'exist; set it in the config or with --cfg-options.')


def _listed(keys: List[str], limit: int = 20) -> str:
    return f'{keys[:limit]}{" ..." if len(keys) > limit else ""}'


def check_checkpoint_keys(model: torch.nn.Module, filename: str,
                     allow_shape_mismatch: bool = False) -> None:
    """Fail when a checkpoint does not fit ``model`` (DDP-wrapped or not).

    Raises ``KeyError`` listing missing/unexpected keys and ``ValueError``
    listing every key whose tensor shape differs (checkpoint vs model), unless
    ``allow_shape_mismatch`` (those tensors then keep the model's values, as
    mmengine's non-strict loading does).
    """
    state = checkpoint_state_dict(filename, mmap=True)  # keys and shapes: nothing is read
    expected = unwrap_model(model).state_dict()
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or unexpected:
        raise KeyError(f'Checkpoint {filename} does not match the model: '
                       f'missing keys {_listed(missing)}, unexpected keys {_listed(unexpected)}.')
    mismatched = [f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(expected[k].shape)}'
                  for k, v in state.items()
                  if hasattr(v, 'shape') and tuple(v.shape) != tuple(expected[k].shape)]
    if mismatched and not allow_shape_mismatch:
        raise ValueError(f'Checkpoint {filename} has tensors whose shapes differ from the '
                         f'model\'s: {_listed(mismatched)}. Fix the config (e.g. the embed '
                         f'width) to match, or pass --allow-shape-mismatch (config: '
                         f'allow_shape_mismatch = True) to keep the model\'s values there.')
    if mismatched:
        print_log(f'Checkpoint {filename}: not loading {len(mismatched)} tensors of another '
                  f'shape (allow_shape_mismatch): {_listed(mismatched)}.', logger='current',
                  level=logging.WARNING)


def dist_timeout(cfg: Config) -> datetime.timedelta:
    """``env_cfg.dist_cfg.timeout`` (seconds, as mmengine reads it), else torch's 30 min."""
    seconds = (cfg.get('env_cfg') or {}).get('dist_cfg', {}).get('timeout', 1800)
    return datetime.timedelta(seconds=float(seconds))


def setup_cpu_distributed(cfg: Config, launcher: str) -> None:
    """Make ``--launcher pytorch`` work on CPU-only machines (gloo, no device ids).

    mmengine's launcher sets a CUDA device and wraps DDP with ``device_ids``;
    neither exists without CUDA. We initialise the gloo process group
    ourselves (mmengine then skips its own initialisation), with
    ``env_cfg.dist_cfg.timeout`` as mmengine would pass it, and let DDP run on
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
                                world_size=int(os.environ['WORLD_SIZE']),
                                timeout=dist_timeout(cfg))


def teardown_distributed(runner: Optional[Runner] = None) -> None:
    """Free ``runner``'s DDP wrapper, wait for every rank, then destroy the process group.

    Leaving the group to interpreter exit lets gloo's background threads die
    mid-operation ("terminate called without an active exception"). So does
    destroying it while a DDP wrapper still holds it: the runner sits in
    reference cycles (its loops and hooks point back at it), so the wrapper
    would be freed only at shutdown, after the group. ``runner.model`` becomes
    the unwrapped model (still usable) and the garbage is collected first.
    """
    import torch.distributed as dist
    if not (dist.is_available() and dist.is_initialized()):
        return
    if runner is not None:
        runner.model = unwrap_model(runner.model)
    gc.collect()
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
    if vis.get('type') in ('SegVisualizationHook', 'mmseg.SegVisualizationHook'):
        vis['type'] = 'USSVisualizationHook'  # draws on the evaluated (e.g. cropped) image
    vis['draw'] = True
    vis.setdefault('interval', 1)
    if show:
        vis['show'] = True
        vis['wait_time'] = wait_time
    if show_dir:
        cfg.visualizer['save_dir'] = show_dir


def setup_amp(cfg: Config) -> None:
    """``--amp``: mmengine's ``AmpOptimWrapper`` (fp16, dynamic loss scale); GPU only."""
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper == 'AmpOptimWrapper':
        print_log('AMP training is already enabled in the config.', logger='current',
                  level=logging.WARNING)
        return
    if not torch.cuda.is_available():
        raise SystemExit('--amp needs a CUDA GPU (mmengine\'s AmpOptimWrapper scales fp16 '
                         'losses on the GPU); on CPU, train without --amp.')
    if wrapper != 'OptimWrapper':
        raise ValueError(f'--amp supports OptimWrapper only, not {wrapper}.')
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.loss_scale = 'dynamic'


def add_reliability_hooks(cfg: Config) -> None:
    """Atomic checkpoint and metric writes and the non-finite guard, in every config the tools run.

    mmengine's ``CheckpointHook`` and ``LoggerHook`` become
    :class:`AtomicCheckpointHook` and :class:`AtomicLoggerHook` (same
    options) and :class:`NonFiniteGuardHook` joins ``custom_hooks``.
    """
    hooks = cfg.get('default_hooks') or {}
    swaps = dict(checkpoint=('CheckpointHook', 'AtomicCheckpointHook'),
                 logger=('LoggerHook', 'AtomicLoggerHook'))
    for key, (plain, atomic) in swaps.items():
        hook = hooks.get(key)
        if hook is not None and hook.get('type') in (plain, f'mmengine.{plain}'):
            hook['type'] = atomic
    custom = list(cfg.get('custom_hooks') or [])
    if not any(h.get('type') == 'NonFiniteGuardHook' for h in custom):
        custom.append(dict(type='NonFiniteGuardHook'))
    cfg.custom_hooks = custom


def check_train_batches(runner: Runner) -> None:
    """Fail early when the train dataloader yields no batch (e.g. fewer images than one
    batch with ``drop_last``), which would otherwise train zero iterations or hang."""
    loader = runner.train_dataloader
    if len(loader) == 0:
        raise ValueError(
            f'train_dataloader yields no batch: {len(loader.dataset)} images, batch_size '
            f'{loader.batch_size}, drop_last={loader.drop_last}, '
            f'{runner.world_size} process(es). Add images, lower train_dataloader.batch_size '
            f'or set drop_last=False.')


def enable_out_dir(cfg: Config, out_dir: Optional[str]) -> None:
    """``--out DIR``: add :class:`PredictionDumpHook` (cluster/class PNGs, metrics JSON)."""
    if out_dir:
        cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
            dict(type='PredictionDumpHook', out_dir=out_dir)]
