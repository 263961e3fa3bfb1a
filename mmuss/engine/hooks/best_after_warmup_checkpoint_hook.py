"""The atomic checkpoint hook whose best checkpoint is chosen among post-warm-up evaluations."""
from typing import Optional

from mmseg.registry import HOOKS

from .atomic_checkpoint_hook import AtomicCheckpointHook


@HOOKS.register_module()
class BestAfterWarmupCheckpointHook(AtomicCheckpointHook):
    """:class:`AtomicCheckpointHook` whose ``save_best`` skips warm-up evaluations.

    PriMaPs-EM trains its initialisation (cluster-probe warm-up) in the same
    run as EM; the reference trains it in a separate run and selects the best
    checkpoint among EM epochs only. Evaluations made after at most
    ``warmup`` training epochs (iterations when ``by_epoch=False``) are
    therefore not candidates for the best checkpoint; everything else
    (interval checkpoints, ``save_last``, the best-score record, resuming) is
    mmengine's.

    Args:
        warmup: Epochs (iterations with ``by_epoch=False``) of warm-up; set it
            to :class:`PrimapsEMHook`'s ``warmup_epochs`` (``warmup_iters``).
        **kwargs: :class:`AtomicCheckpointHook` (mmengine ``CheckpointHook``)
            arguments.
    """

    def __init__(self, warmup: int = 0, **kwargs) -> None:
        super().__init__(**kwargs)
        if warmup < 0:
            raise ValueError(f'BestAfterWarmupCheckpointHook needs warmup >= 0, got {warmup}.')
        self.warmup = warmup

    def after_val_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        """Best-checkpoint selection, only once training is past the warm-up."""
        if (runner.epoch if self.by_epoch else runner.iter) <= self.warmup:
            return
        super().after_val_epoch(runner, metrics)
