"""Build and renew HP's reference pools (docs/methods/hp.md eqs. 4, 16, Q13)."""
from typing import Optional, Tuple

import torch
from mmengine.dataset import pseudo_collate
from mmengine.dist import broadcast, get_dist_info
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS
from torch import Tensor

from mmuss.utils import preserved_rng_state

from mmuss.utils.model_wrapper import unwrap_model


def pool_indices(dataset_size: int, pool_size: int, generator: torch.Generator) -> Tensor:
    """``pool_size`` distinct random dataset indices (one pool vector per image)."""
    if pool_size > dataset_size:
        raise ValueError(f'Reference pool size {pool_size} is larger than the training set '
                         f'({dataset_size} images); lower decode_head.pool_size.')
    return torch.randperm(dataset_size, generator=generator)[:pool_size]


def is_renewal_iter(iteration: int, iters_per_epoch: int, interval: int) -> bool:
    """HP renews ``Pool_sp`` when the within-epoch index ``i`` has ``i % interval == 0, i ≠ 0``."""
    i = iteration % iters_per_epoch
    return i != 0 and i % interval == 0


@HOOKS.register_module()
class ReferencePoolHook(Hook):
    """Fill ``decode_head``'s HP reference pools and renew the task-specific one.

    Before training, ``pool_size`` random training images (one random patch
    each, drawn independently per pool) give ``Pool_ag`` (dropped-out
    backbone features) and ``Pool_sp`` (EMA-head code), computed with the
    head in train mode (dropout active) as HP does. At every within-epoch
    iteration ``i`` with ``i % renew_interval == 0`` and ``i ≠ 0`` (epoch =
    one pass of the train loader), ``Pool_sp`` is rebuilt from new images with
    the current EMA head. The pools are head buffers, so checkpoints carry
    them: a resumed run keeps its pools instead of rebuilding them.

    Image choice and positions come from a generator seeded with
    ``seed + iteration``, and the global python, numpy and torch RNG states
    (data transforms, the pool dropout masks) are restored afterwards
    (:func:`preserved_rng_state`), so pool building does not perturb the
    training data stream or the step's dropout masks, and resumed runs repeat them.
    Rank 0's pools are broadcast to every rank.

    Args:
        batch_size: Images per forward while building.
        renew_interval: Iterations between ``Pool_sp`` renewals (0: never).
        num_workers: Data-loading workers while building; ``None`` (default): the training
            dataloader's ``num_workers``, so ``train_dataloader.num_workers`` sets both.
        seed: Base seed.
    """

    priority = 'NORMAL'

    def __init__(self, batch_size: int = 64, renew_interval: int = 100,
                 num_workers: Optional[int] = None,
                 seed: int = 0) -> None:
        if renew_interval < 0:
            raise ValueError(f'renew_interval must be >= 0, got {renew_interval}.')
        self.batch_size = batch_size
        self.renew_interval = renew_interval
        self.num_workers = num_workers
        self.seed = seed
        self.num_renewals = 0

    def workers(self, runner) -> int:
        """``num_workers``, else the training dataloader's."""
        if self.num_workers is not None:
            return self.num_workers
        return runner.train_dataloader.num_workers

    def head(self, runner):
        head = unwrap_model(runner.model).decode_head
        if not hasattr(head, 'set_pools'):
            raise TypeError(f'ReferencePoolHook needs an HPHead, got {type(head).__name__}.')
        return head

    @torch.no_grad()
    def collect(self, runner, iteration: int) -> Tuple[Tensor, Tensor]:
        """``(Pool_ag, Pool_sp)`` candidates from fresh random training images."""
        model, head = unwrap_model(runner.model), self.head(runner)
        dataset = runner.train_dataloader.dataset
        gen = torch.Generator().manual_seed(self.seed + iteration)
        indices = pool_indices(len(dataset), head.pool_size, gen)
        was_training = head.training
        loader = torch.utils.data.DataLoader(
            torch.utils.data.Subset(dataset, indices.tolist()), batch_size=self.batch_size,
            shuffle=False, num_workers=self.workers(runner), collate_fn=pseudo_collate,
            generator=torch.Generator().manual_seed(self.seed + iteration))
        head.train()
        agnostic, specific = [], []
        with preserved_rng_state():
            try:
                for batch in loader:
                    data = model.data_preprocessor(batch, False)
                    ag, sp = head.pool_candidates(model.extract_feat(data['inputs']), gen)
                    agnostic.append(ag)
                    specific.append(sp)
            finally:
                head.train(was_training)
        return torch.cat(agnostic), torch.cat(specific)

    def share(self, head) -> None:
        if get_dist_info()[1] > 1:
            for buffer in (head.pool_agnostic, head.pool_specific, head.pool_ready):
                broadcast(buffer, src=0)

    def before_train(self, runner) -> None:
        head = self.head(runner)
        dataset_size = len(runner.train_dataloader.dataset)
        if head.pool_size > dataset_size:
            pool_indices(dataset_size, head.pool_size, torch.Generator())
        if bool(head.pool_ready):
            print_log('ReferencePoolHook: pools restored from the checkpoint.', logger='current')
            return
        agnostic, specific = self.collect(runner, runner.iter)
        head.set_pools(agnostic, specific)
        self.share(head)
        print_log(f'ReferencePoolHook: built pools of {head.pool_size} vectors.',
                  logger='current')

    def before_train_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None) -> None:
        if not self.renew_interval or not is_renewal_iter(
                runner.iter, len(runner.train_dataloader), self.renew_interval):
            return
        head = self.head(runner)
        head.set_pools(specific=self.collect(runner, runner.iter)[1])
        self.share(head)
        self.num_renewals += 1
        runner.message_hub.update_info('hp/pool_renewal_iter', runner.iter)
