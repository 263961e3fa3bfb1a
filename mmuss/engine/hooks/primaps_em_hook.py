"""Switch a PriMaPs-EM head from warm-up to EM and set θ_M's EMA schedule."""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS

from mmuss.utils.model_wrapper import unwrap_model


@HOOKS.register_module()
class PrimapsEMHook(Hook):
    """Drive :class:`PrimapsEMHead`'s stages (docs/methods/primaps_em.md).

    - Before iteration ``warmup_iters`` (the cluster-probe warm-up, e.g. two
      epochs) the head's :meth:`start_em` copies the cluster-probe directions
      into θ_R and θ_M.
    - Before training it sets the head's θ_M schedule
      (:meth:`PrimapsEMHead.set_momentum_schedule`): after EM iteration
      ``t = runner.iter − warmup_iters`` with ``t > 0`` and
      ``t mod interval == 0``, θ_M takes one EMA update call: the first two
      copy θ_R, then ``d = min(1 − 1/c, max_decay)`` for call ``c``
      (:func:`primaps_ema_decay`). The head's teacher applies it at the
      start of the next step (:func:`update_teachers`).

    The EM flag and the teacher's counters are buffers of the head, so a
    resumed run continues the schedule exactly.

    Args:
        warmup_iters: Cluster-probe iterations before EM (0: EM from the start,
            from the PCA-initialised probe).
        warmup_epochs: Alternatively, warm-up epochs (the reference's 2);
            ``warmup_iters`` becomes ``warmup_epochs·len(train_dataloader)``.
        interval: EMA update period in iterations (10).
        max_decay: Decay cap (0.98).
    """

    priority = 'NORMAL'

    def __init__(self, warmup_iters: int = 0, interval: int = 10, max_decay: float = 0.98,
                 warmup_epochs: Optional[int] = None) -> None:
        if warmup_iters < 0 or interval < 1:
            raise ValueError(f'PrimapsEMHook needs warmup_iters >= 0 and interval >= 1, got '
                             f'{warmup_iters} and {interval}.')
        if not 0.0 <= max_decay < 1.0:
            raise ValueError(f'max_decay must be in [0, 1), got {max_decay}.')
        if warmup_epochs is not None and warmup_epochs < 0:
            raise ValueError(f'warmup_epochs must be >= 0, got {warmup_epochs}.')
        self.warmup_iters = warmup_iters
        self.warmup_epochs = warmup_epochs
        self.interval = interval
        self.max_decay = max_decay

    def before_train(self, runner) -> None:
        if self.warmup_epochs is not None:
            self.warmup_iters = self.warmup_epochs * len(runner.train_dataloader)
        self.head(runner).set_momentum_schedule(self.interval, self.max_decay)

    @staticmethod
    def head(runner):
        model = unwrap_model(runner.model)
        head = model.decode_head
        if not hasattr(head, 'start_em'):
            raise TypeError(f'PrimapsEMHook needs a PrimapsEMHead, got {type(head).__name__}.')
        return head

    def before_train_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None) -> None:
        head = self.head(runner)
        if runner.iter >= self.warmup_iters and not bool(head.em_active):
            head.start_em()
            print_log(f'PrimapsEMHook: EM starts at iteration {runner.iter} from the cluster '
                      f'probe.', logger='current')
