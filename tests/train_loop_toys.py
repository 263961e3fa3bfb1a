"""A toy mmengine run (7 numbered samples, a 1-parameter model) that records its batches."""
from pathlib import Path
from typing import List, Optional, Tuple

import torch
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

NUM_SAMPLES = 7


class NumberedSamples(Dataset):
    """Sample ``i`` is ``inputs = float(i)`` with ``data_samples = i``."""

    def __len__(self) -> int:
        return NUM_SAMPLES

    def __getitem__(self, index: int) -> dict:
        return dict(inputs=torch.tensor([float(index)]), data_samples=index)


class Mean(BaseModel):
    """Fits one parameter to the mean of the batch."""

    def __init__(self) -> None:
        super().__init__()
        self.mean = torch.nn.Parameter(torch.zeros(1))

    def forward(self, inputs, data_samples=None, mode='loss'):
        return dict(loss=((self.mean - torch.stack(inputs)) ** 2).mean())


class RecordBatches(Hook):
    """Appends ``(epoch, batch_idx, sample indices)`` of every train iteration to ``seen``."""

    def __init__(self) -> None:
        self.seen: List[Tuple[int, int, List[int]]] = []

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self.seen.append((runner.epoch, batch_idx, list(data_batch['data_samples'])))


class Interrupted(RuntimeError):
    pass


class StopAfter(Hook):
    """Raises :class:`Interrupted` after iteration ``iteration`` (1-based) and its checkpoints."""

    priority = 'LOWEST'

    def __init__(self, iteration: int) -> None:
        self.iteration = iteration

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if runner.iter + 1 == self.iteration:
            raise Interrupted(f'stopped after iteration {self.iteration}')


def toy_runner(work_dir: Path, name: str, hooks: list, loop: str = 'ResumableEpochBasedTrainLoop',
               resume_from: Optional[Path] = None, shuffle: bool = False, batch_size: int = 2,
               max_epochs: int = 2, epoch_keep: int = -1, num_workers: int = 0,
               seed: Optional[int] = 0) -> Runner:
    """A runner over :class:`NumberedSamples` with an epoch checkpoint hook and ``hooks``."""
    return Runner(
        model=Mean(), work_dir=str(work_dir), experiment_name=name, default_scope='mmseg',
        train_dataloader=dict(dataset=NumberedSamples(), batch_size=batch_size,
                              num_workers=num_workers, persistent_workers=num_workers > 0,
                              sampler=dict(type='DefaultSampler', shuffle=shuffle)),
        train_cfg=dict(type=loop, max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1,
                                           max_keep_ckpts=epoch_keep)),
        custom_hooks=hooks, randomness=dict(seed=seed), log_level='WARNING',
        load_from=None if resume_from is None else str(resume_from),
        resume=resume_from is not None)
