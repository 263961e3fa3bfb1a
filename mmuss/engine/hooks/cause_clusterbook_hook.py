"""Write CAUSE's concept clusterbook after each epoch and at the end of training."""
import os.path as osp
from typing import Optional

from mmengine.dist import master_only
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS

from mmuss.models.decode_heads.cause.clusterbook import save_clusterbook
from mmuss.utils.model_wrapper import unwrap_model

#: The file in the mediator's work dir that the steps-2/3 configs read by default.
DEFAULT_NAME = 'clusterbook_2048.npy'


@HOOKS.register_module()
class CauseClusterbookHook(Hook):
    """Save ``decode_head.clusterbook`` (:class:`CauseMediatorHead`) to ``clusterbook_file``.

    Rank 0 writes the ``K×C`` float32 ``.npy`` atomically after every epoch
    and after training; the training checkpoints hold the clusterbook too,
    so an interrupted mediator stage resumes with ``--resume``.

    Args:
        clusterbook_file: Path of the clusterbook, read by the CAUSE heads'
            ``clusterbook_file``; ``None`` (the shipped mediator configs):
            ``<work_dir>/clusterbook_2048.npy``, where the steps-2/3 configs look by
            default when the mediator trained in its default work dir (the name stays
            for other ``num_codebook``: it is what they read).
    """

    priority = 'LOW'

    def __init__(self, clusterbook_file: Optional[str] = None) -> None:
        self.clusterbook_file = clusterbook_file

    def path(self, runner) -> str:
        """Where the clusterbook goes: ``clusterbook_file``, else into the run's work dir."""
        if self.clusterbook_file is not None:
            return self.clusterbook_file
        return osp.join(runner.work_dir, DEFAULT_NAME)

    @master_only
    def save(self, runner) -> None:
        model = unwrap_model(runner.model)
        clusterbook = getattr(model.decode_head, 'clusterbook', None)
        if clusterbook is None:
            raise TypeError(f'CauseClusterbookHook needs a CauseMediatorHead, got '
                            f'{type(model.decode_head).__name__}.')
        path = self.path(runner)
        save_clusterbook(path, clusterbook)
        print_log(f'CauseClusterbookHook: wrote {tuple(clusterbook.shape)} clusterbook to '
                  f'{path} (iteration {runner.iter}).', logger='current')

    def after_train_epoch(self, runner) -> None:
        self.save(runner)

    def after_train(self, runner) -> None:
        self.save(runner)
