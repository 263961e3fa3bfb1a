"""HP's task-specific positive weight λ, ramped per iteration (docs/methods/hp.md eq. 15)."""
from typing import Optional

from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from mmuss.utils.model_wrapper import unwrap_model


def hp_lambda(iteration: int, total_iters: int, warmup: int) -> float:
    """``λ(t) = 0`` for ``t <= w``, else ``(t − w) / (T − w)``.

    Args:
        iteration: 0-based global iteration ``t``.
        total_iters: Iterations of the whole run ``T``.
        warmup: Warm-up iterations ``w`` (``< T``).
    """
    if warmup >= total_iters:
        raise ValueError(f'HP warmup ({warmup}) must be shorter than the run ({total_iters}).')
    return 0.0 if iteration <= warmup else (iteration - warmup) / (total_iters - warmup)


@HOOKS.register_module()
class HPLambdaHook(Hook):
    """Set ``decode_head.hp_lambda`` from the global iteration before every train step.

    Depends only on ``runner.iter`` and ``runner.max_iters``, so a resumed run
    continues the ramp exactly. The value is logged as ``hp_lambda``.

    Args:
        warmup: Warm-up iterations with ``λ = 0`` (1000 COCO, 50 Cityscapes,
            100 Potsdam).
    """

    priority = 'NORMAL'

    def __init__(self, warmup: int = 1000) -> None:
        self.warmup = warmup

    def before_train_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None) -> None:
        model = unwrap_model(runner.model)
        value = hp_lambda(runner.iter, runner.max_iters, self.warmup)
        model.decode_head.hp_lambda = value
        runner.message_hub.update_scalar('train/hp_lambda', value)
