"""Initialise a head's cluster prototypes from another model's checkpoint."""

from typing import Optional

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS
from torch import nn

from mmuss.utils.checkpoint import checkpoint_state_dict, resolve_checkpoint
from mmuss.utils.model_wrapper import unwrap_model


@HOOKS.register_module()
class CheckpointPrototypeInitHook(Hook):
    """Copy ``key`` of a checkpoint's state dict into ``decode_head.<probe>.prototypes``.

    PriMaPs-EM "+STEGO"/"+HP"
    (docs/methods/primaps_em.md#variants-on-stego-and-hp) start from the SotA
    model's cluster centres instead of a PCA. Runs before the first iteration
    and is skipped when resuming (the prototypes then come from the resumed
    checkpoint).

    Args:
        checkpoint: The SotA (STEGO/HP/CAUSE) training checkpoint: a file, a glob matching
            one (a best checkpoint) or the run's work dir (its last checkpoint). Default:
            the ``checkpoint`` of the model's :class:`FrozenCodeBackbone`, the run whose
            code the prototypes are fitted to.
        key: State-dict key of the ``K×D`` centres.
        probe: Attribute of the decode head holding the prototype probe.
    """

    priority = 'LOW'

    def __init__(self, checkpoint: Optional[str] = None,
                 key: str = 'decode_head.cluster_probe.prototypes',
                 probe: str = 'cluster_probe') -> None:
        self.checkpoint = checkpoint
        self.key = key
        self.probe = probe

    def source(self, model: nn.Module) -> str:
        """The checkpoint to read: the configured one, else the code backbone's."""
        checkpoint = self.checkpoint or getattr(model.backbone, 'checkpoint', None)
        if not checkpoint:
            raise ValueError('CheckpointPrototypeInitHook has no checkpoint: set its `checkpoint` '
                             'or model.backbone.checkpoint (a FrozenCodeBackbone).')
        return checkpoint

    def before_train(self, runner) -> None:
        if runner.iter > 0:
            return
        model = unwrap_model(runner.model)
        path = resolve_checkpoint(self.source(model),
                                  'CheckpointPrototypeInitHook (sota_checkpoint)')
        state = checkpoint_state_dict(path)
        if self.key not in state:
            raise KeyError(f'{path} has no {self.key!r}.')
        prototypes = getattr(model.decode_head, self.probe).prototypes
        centres = state[self.key]
        if centres.shape != prototypes.shape:
            raise ValueError(f'{self.key} of {path} is {tuple(centres.shape)}, the '
                             f'head expects {tuple(prototypes.shape)}.')
        with torch.no_grad():
            prototypes.copy_(centres.to(prototypes))
        print_log(f'CheckpointPrototypeInitHook: {self.probe} from {self.key} of '
                  f'{path}.', logger='current')
