"""Seed the model's random draws from the iteration, so resumed runs repeat them."""
from typing import Optional

import torch
from mmengine.dist import get_dist_info
from mmengine.hooks import Hook
from mmseg.registry import HOOKS


def iteration_seed(seed: int, iteration: int, rank: int = 0, world_size: int = 1) -> int:
    """A distinct seed for every (iteration, rank): ``(seed + iteration)·world_size + rank``."""
    return (seed + iteration) * world_size + rank


@HOOKS.register_module()
class IterationSeedHook(Hook):
    """Reseed torch's global RNG before every train iteration from ``seed`` and ``runner.iter``.

    Dropout masks, STEGO's sampled points and HP's random negatives then
    depend on the iteration only, not on what ran before (validation,
    pool building), and mmengine checkpoints need no RNG state: a run resumed
    at iteration ``k`` draws what the uninterrupted run drew. Data-pipeline
    randomness (numpy) is replayed by mmengine's resume and is unaffected.

    Args:
        seed: Base seed.
    """

    priority = 'VERY_HIGH'

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def before_train_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None) -> None:
        rank, world_size = get_dist_info()
        torch.manual_seed(iteration_seed(self.seed, runner.iter, rank, world_size))
