"""The one set-up of an offline pass over a dataset (``tools/precompute_*.py``).

:func:`offline_pass` reads the config with ``--cfg-options`` (and their
``custom_imports``), starts the process group of ``--launcher`` with the
config's ``env_cfg.dist_cfg`` (its ``timeout`` included, on GPU and CPU),
seeds every rank alike, and tears the group down at the end. Rank ``r`` of
``W`` takes samples ``r, r + W, …`` (:func:`strided_shard`), so every rank
has work whenever there are at least ``W`` samples; :func:`gather_strided`
puts the ranks' rows back in dataset order.
"""
import argparse
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Optional

import torch
from mmengine.config import Config
from mmengine.dist import all_gather, get_dist_info, init_dist
from mmengine.registry import init_default_scope
from mmengine.runner import set_random_seed
from mmengine.utils import import_modules_from_strings
from torch import Tensor

from mmuss.utils.cfg_options import merge_cfg_options
from mmuss.apis.distributed import dist_timeout, init_gloo_group, teardown_distributed


@dataclass
class OfflinePass:
    """What a pass works with: the config and this process's place among the ranks."""

    cfg: Config
    rank: int
    world_size: int
    device: str


def load_pass_config(config: str, cfg_options: Optional[dict] = None) -> Config:
    """``config`` with ``cfg_options`` merged (importing their ``custom_imports``), scope set."""
    cfg = merge_cfg_options(Config.fromfile(config), cfg_options)
    if cfg_options is not None and cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    return cfg


def init_pass_distributed(launcher: str, cfg: Config) -> None:
    """Start the process group with the config's ``env_cfg.dist_cfg``, timeout included.

    On CPU (``--launcher pytorch`` only: mmengine's launcher insists on a CUDA
    device) the group is gloo.
    """
    if launcher == 'none':
        return
    if torch.cuda.is_available():
        dist_cfg = dict((cfg.get('env_cfg') or {}).get('dist_cfg') or {})
        dist_cfg.setdefault('backend', 'nccl')
        dist_cfg['timeout'] = dist_timeout(cfg).total_seconds()  # init_dist takes seconds
        init_dist(launcher, **dist_cfg)
    elif launcher == 'pytorch':
        init_gloo_group(cfg)
    else:
        raise ValueError(f'--launcher {launcher} needs CUDA; on CPU use pytorch.')


@contextmanager
def offline_pass(args: argparse.Namespace, seed: int) -> Iterator[OfflinePass]:
    """Config of ``args.config`` (``args.cfg_options``), process group of ``args.launcher``,
    ``seed`` on every rank; the group is torn down when the pass completes (after an error
    the process exits instead: a barrier would wait for the failed rank)."""
    cfg = load_pass_config(args.config, args.cfg_options)
    init_pass_distributed(args.launcher, cfg)
    rank, world_size = get_dist_info()
    set_random_seed(seed)  # the same random-init weights on every rank and in every run
    device = getattr(args, 'device', None) or ('cuda' if torch.cuda.is_available() else 'cpu')
    yield OfflinePass(cfg, rank, world_size, device)
    teardown_distributed()


def strided_shard(num: int, rank: int, world_size: int) -> range:
    """Rank ``rank``'s samples of ``num``: ``rank, rank + world_size, …``."""
    return range(rank, num, world_size)


def gather_strided(rows: Tensor, num: int) -> Tensor:
    """Every rank's :func:`strided_shard` rows, gathered in dataset order (``num`` rows)."""
    _, world_size = get_dist_info()
    if world_size == 1:
        return rows
    per_rank = -(-num // world_size)
    padded = rows.new_zeros((per_rank, *rows.shape[1:]))
    padded[:rows.shape[0]] = rows
    stacked = torch.stack(all_gather(padded))  # W×P×…: row p of rank r is sample p·W + r
    return stacked.transpose(0, 1).reshape(per_rank * world_size, *rows.shape[1:])[:num]
