"""Write CAUSE's concept clusterbook after each epoch and at the end of training."""
from mmengine.dist import master_only
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS

from mmuss.models.utils.cause_clusterbook import save_clusterbook
from mmuss.utils.model_wrapper import unwrap_model


@HOOKS.register_module()
class CauseClusterbookHook(Hook):
    """Save ``decode_head.clusterbook`` (:class:`CauseMediatorHead`) to ``out_file``.

    Rank 0 writes the ``K×C`` float32 ``.npy`` atomically after every epoch
    and after training; the training checkpoints hold the clusterbook too,
    so an interrupted mediator stage resumes with ``--resume``.

    Args:
        out_file: Path of the clusterbook, read by the CAUSE heads'
            ``clusterbook_file``.
    """

    priority = 'LOW'

    def __init__(self, out_file: str) -> None:
        self.out_file = out_file

    @master_only
    def save(self, runner) -> None:
        model = unwrap_model(runner.model)
        clusterbook = getattr(model.decode_head, 'clusterbook', None)
        if clusterbook is None:
            raise TypeError(f'CauseClusterbookHook needs a CauseMediatorHead, got '
                            f'{type(model.decode_head).__name__}.')
        save_clusterbook(self.out_file, clusterbook)
        print_log(f'CauseClusterbookHook: wrote {tuple(clusterbook.shape)} clusterbook to '
                  f'{self.out_file} (iteration {runner.iter}).', logger='current')

    def after_train_epoch(self, runner) -> None:
        self.save(runner)

    def after_train(self, runner) -> None:
        self.save(runner)
