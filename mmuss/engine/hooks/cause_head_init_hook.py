"""Start CAUSE's probe fine-tuning (step 3) from the front-door head of step 2."""
from typing import Sequence

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS

from mmuss.utils.model_wrapper import unwrap_model
from mmuss.utils.checkpoint import (checkpoint_state_dict, resolve_checkpoint,
                                    state_under_prefix)


@HOOKS.register_module()
class CauseHeadInitHook(Hook):
    """Load ``decode_head.*`` of a step-2 checkpoint, except ``exclude``, before training.

    The reference's fine-tuning loads the trained segmentation head and
    starts a fresh cluster probe; the concept bank is no longer needed.
    Every other head weight must be present. Skipped when resuming (the
    weights then come from the resumed checkpoint).

    Args:
        checkpoint: Step-2 checkpoint, a glob matching one, or the step-2 work directory
            (its ``last_checkpoint``); the shipped configs set it from ``step2_work_dir``.
        exclude: Head-relative key prefixes not loaded.
    """

    priority = 'LOW'

    def __init__(self, checkpoint: str,
                 exclude: Sequence[str] = ('cluster_probe.', 'bank.')) -> None:
        self.checkpoint = checkpoint
        self.exclude = tuple(exclude)

    def before_train(self, runner) -> None:
        if runner.iter > 0:
            return
        path = resolve_checkpoint(
            self.checkpoint, 'CauseHeadInitHook (step2_work_dir: the CAUSE step-2 front-door '
            'stage, configs/cause/cause-{mlp,tr}_*.py)')
        head_state = state_under_prefix(checkpoint_state_dict(path), 'decode_head.',
                                        self.exclude)
        model = unwrap_model(runner.model)
        result = model.decode_head.load_state_dict(head_state, strict=False)
        missing = [k for k in result.missing_keys if not k.startswith(self.exclude)]
        if missing or result.unexpected_keys:
            raise KeyError(f'{path} does not match decode_head: missing {missing}, unexpected '
                           f'{result.unexpected_keys}.')
        print_log(f'CauseHeadInitHook: decode_head from {path} (not {list(self.exclude)}).',
                  logger='current')
