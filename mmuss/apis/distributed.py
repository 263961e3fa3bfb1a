"""Process groups of the tools: CPU DDP for ``--launcher pytorch``, the configured timeout,
and a clean teardown."""
import datetime
import gc
import os
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmuss.utils.model_wrapper import unwrap_model


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
        init_gloo_group(cfg)


def init_gloo_group(cfg: Config) -> None:
    """The gloo process group torchrun's environment describes, with the config's timeout."""
    torch.distributed.init_process_group(backend='gloo', rank=int(os.environ['RANK']),
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
