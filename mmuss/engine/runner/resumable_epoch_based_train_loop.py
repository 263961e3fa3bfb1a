"""mmengine's epoch-based train loop, resumable inside an epoch at the first unseen batch."""
from contextlib import contextmanager
from itertools import islice
from typing import Dict, Iterator, Sequence, Union

from mmengine.runner import EpochBasedTrainLoop
from mmseg.registry import LOOPS
from torch.utils.data import BatchSampler, DataLoader, Sampler

PROGRESS_KEY = 'train_epoch_progress'


class _SamplerTail(Sampler):
    """``sampler``'s indices from position ``start`` on; its length stays that of ``sampler``,
    so the loader keeps reporting the batches of the whole epoch."""

    def __init__(self, sampler: Sampler, start: int) -> None:
        self.sampler, self.start = sampler, start

    def __iter__(self) -> Iterator[int]:
        return islice(iter(self.sampler), self.start, None)

    def __len__(self) -> int:
        return len(self.sampler)


@contextmanager
def skipped_batches(dataloader: DataLoader, num_batches: int) -> Iterator[None]:
    """Within the context, ``dataloader`` starts its next pass at batch ``num_batches``.

    The batch sampler draws from its sampler without the first ``num_batches ×
    batch_size`` indices: the remaining batches are those of the full pass, and
    no skipped sample is loaded. Needs torch's ``BatchSampler``, whose batch
    ``b`` holds sampler indices ``b·B … (b+1)·B-1``.
    """
    if num_batches == 0:
        yield
        return
    batch_sampler = dataloader.batch_sampler
    sampler = batch_sampler.sampler
    batch_sampler.sampler = _SamplerTail(sampler, num_batches * batch_sampler.batch_size)
    try:
        yield
    finally:
        batch_sampler.sampler = sampler


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` that resumes a checkpoint saved inside an epoch at the next batch.

    mmengine's loop starts the epoch of a resumed checkpoint from its first
    batch, so resuming from an iteration checkpoint (``IterCheckpointHook``)
    saved at iteration ``it`` of epoch ``e`` re-trains the ``it - e·L``
    batches already consumed (``L`` batches per epoch). This loop records how
    many batches of the current epoch are done in the message hub, which every
    checkpoint saves; a run resumed from a mid-epoch checkpoint continues that
    epoch at the next batch, with the epoch's sample order (the sampler is
    seeded per epoch, as mmengine's ``DefaultSampler`` with ``shuffle=True``)
    minus the consumed indices, so skipped images are never loaded. Hooks see
    the batch indices and ``len(dataloader)`` of the uninterrupted epoch.
    Checkpoints saved at an epoch end, and those of mmengine's loop, resume as
    with mmengine's loop; validation and epoch intervals are unchanged.

    Random transforms in the data pipeline are not replayed after a mid-epoch
    resume (the loader's workers see other batches than before); a pipeline
    without them, as CAUSE's, gives the uninterrupted run's batches.

    Args: as ``EpochBasedTrainLoop``. The train dataloader must batch with
    torch's ``BatchSampler`` (``batch_size`` set, no ``batch_sampler``).
    """

    def __init__(self, runner, dataloader: Union[DataLoader, Dict], **kwargs) -> None:
        super().__init__(runner, dataloader, **kwargs)
        batch_sampler = getattr(self.dataloader, 'batch_sampler', None)
        if type(batch_sampler) is not BatchSampler:
            raise TypeError(
                f'ResumableEpochBasedTrainLoop skips the consumed samples of an epoch by index and '
                f'needs torch\'s BatchSampler, but train_dataloader batches with '
                f'{type(batch_sampler).__name__}. Set train_dataloader.batch_size without a '
                f'batch_sampler, or use train_cfg.type=\'EpochBasedTrainLoop\'.')

    def run_epoch(self) -> None:
        """Iterate one epoch, from the first batch not yet consumed."""
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        start = self._resumed_batch()
        with skipped_batches(self.dataloader, start):
            for idx, data_batch in enumerate(self.dataloader, start):
                self.run_iter(idx, data_batch)
        self._record_progress(0)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    def run_iter(self, idx: int, data_batch: Sequence[dict]) -> None:
        """Iterate batch ``idx``; checkpoints its ``after_train_iter`` hooks save count it
        as consumed."""
        self._record_progress(idx + 1)
        super().run_iter(idx, data_batch)

    def _record_progress(self, batches_done: int) -> None:
        self.runner.message_hub.update_info(
            PROGRESS_KEY, dict(batches_done=batches_done, batches=len(self.dataloader),
                               sampler_seed=getattr(self.dataloader.sampler, 'seed', None)))

    def _resumed_batch(self) -> int:
        """Batches of the current epoch a resumed checkpoint had consumed (0 if none)."""
        progress = self.runner.message_hub.get_info(PROGRESS_KEY)
        if not progress or progress['batches_done'] == 0:
            return 0
        if progress['batches'] != len(self.dataloader):
            raise ValueError(
                f'The resumed checkpoint was saved after batch {progress["batches_done"]} of '
                f'{progress["batches"]} in epoch {self._epoch + 1}, but this run has '
                f'{len(self.dataloader)} batches per epoch: the dataset, batch size or number of '
                f'processes changed, so the epoch\'s remaining samples are unknown. Resume with '
                f'the original settings, or from an epoch checkpoint (epoch_<n>.pth).')
        sampler = self.dataloader.sampler
        seed = getattr(sampler, 'seed', None)
        if getattr(sampler, 'shuffle', True) and progress.get('sampler_seed', seed) != seed:
            raise ValueError(
                f'The resumed checkpoint was saved in the middle of epoch {self._epoch + 1} with '
                f'sampler seed {progress["sampler_seed"]}, but this run\'s sampler has seed '
                f'{seed}, so the epoch\'s sample order differs and its remaining samples are '
                f'unknown. Resume with the original randomness.seed (a fixed seed, not None), or '
                f'from an epoch checkpoint (epoch_<n>.pth).')
        return progress['batches_done']
