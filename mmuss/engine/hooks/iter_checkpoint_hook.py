"""Iteration checkpoints beside the epoch checkpoints of an epoch-based run."""
from typing import List

from mmengine.dist import is_main_process
from mmseg.registry import HOOKS

from .atomic_checkpoint_hook import AtomicCheckpointHook

KEEP_KEY = 'keep_iter_ckpt_ids'


@HOOKS.register_module()
class IterCheckpointHook(AtomicCheckpointHook):
    """Save ``iter_<k>.pth`` every ``interval`` iterations, next to ``default_hooks.checkpoint``.

    With :class:`ResumableEpochBasedTrainLoop`, a long epoch interrupted
    half-way resumes from the last of these instead of restarting; the epoch
    checkpoints (validation, ``save_best``, ``last_checkpoint`` at the end)
    stay as configured. mmengine's ``CheckpointHook`` keeps the steps of its
    ``max_keep_ckpts`` files under one message-hub key, which two checkpoint
    hooks would share and then delete each other's files (or none); this hook
    keeps its own list under ``keep_iter_ckpt_ids`` and deletes an old file
    only after the new one is written. Saves are atomic and refuse non-finite
    models (:class:`AtomicCheckpointHook`). When ``interval`` divides an
    epoch, its last iteration writes both ``iter_<k>.pth`` and the epoch
    checkpoint; no extra save is made at the run's last iteration.

    Args:
        interval: Iterations between saves.
        max_keep_ckpts: How many of the newest iteration checkpoints to keep;
            -1 keeps all.
        **kwargs: Further ``CheckpointHook`` options (not ``by_epoch``,
            ``save_last``, ``save_best``).
    """

    def __init__(self, interval: int, max_keep_ckpts: int = 1, **kwargs) -> None:
        if interval <= 0 or max_keep_ckpts == 0:
            raise ValueError(f'IterCheckpointHook needs interval > 0 and max_keep_ckpts != 0, '
                             f'got interval={interval}, max_keep_ckpts={max_keep_ckpts}.')
        super().__init__(interval=interval, by_epoch=False, save_last=False, max_keep_ckpts=-1,
                         **kwargs)
        self.max_keep_iter_ckpts = max_keep_ckpts
        self.kept: List[int] = []

    def before_train(self, runner) -> None:
        super().before_train(runner)
        self.kept = list(runner.message_hub.get_info(KEEP_KEY, []))

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        kept = [s for s in self.kept if s != step] + [step]
        keep = self.max_keep_iter_ckpts if self.max_keep_iter_ckpts > 0 else len(kept)
        stale, self.kept = kept[:-keep], kept[-keep:]
        runner.message_hub.update_info(KEEP_KEY, list(self.kept))
        super()._save_checkpoint_with_step(runner, step, meta)
        if not is_main_process():
            return
        for old in stale:
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
