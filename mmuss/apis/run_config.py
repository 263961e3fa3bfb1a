"""The config ``tools/train.py`` and ``tools/test.py`` run: options applied, hooks swapped in,
AMP, and the runner built from it."""
import argparse
import logging
import os
import os.path as osp
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner
from mmengine.utils import import_modules_from_strings

from mmuss.utils.cfg_options import merge_cfg_options
from mmuss.utils.checkpoint import TRUST_ENV


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



def enable_out_dir(cfg: Config, out_dir: Optional[str]) -> None:
    """``--out DIR``: add :class:`PredictionDumpHook` (cluster/class PNGs, metrics JSON)."""
    if out_dir:
        cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
            dict(type='PredictionDumpHook', out_dir=out_dir)]



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
