"""Optimizer-wrapper constructor that clips the gradients of a parameter subset only."""
import functools
from typing import Callable, Iterable, List, Sequence, Set

import torch
import torch.nn as nn
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS


def clip_subset(params: Iterable[torch.Tensor], *, keep: Set[int], clip_func: Callable,
                **kwargs) -> torch.Tensor:
    """Apply ``clip_func`` (e.g. ``clip_grad_norm_``) to the parameters with ``id`` in ``keep``."""
    return clip_func([p for p in params if id(p) in keep], **kwargs)


def params_with_prefixes(model: nn.Module, prefixes: Sequence[str]) -> List[nn.Parameter]:
    """Trainable parameters whose names start with any of ``prefixes``.

    Each prefix must name at least one parameter (a typo is an error); a
    prefix naming frozen parameters only contributes none, so one config can
    list a module that a model switch makes trainable (CAUSE step 3's
    ``head_ema`` with ``train_head_ema``).
    """
    named = list(model.named_parameters())
    for prefix in prefixes:
        if not any(n.startswith(prefix) for n, _ in named):
            raise KeyError(f'clip_prefixes entry {prefix!r} matches no parameter; '
                           f'names look like {[n for n, _ in named[:5]]}.')
    return [p for n, p in named if p.requires_grad and n.startswith(tuple(prefixes))]


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class SubsetClipOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """:class:`DefaultOptimWrapperConstructor` whose ``clip_grad`` covers only ``clip_prefixes``.

    Everything else (``paramwise_cfg``, ``OptimWrapper``/``AmpOptimWrapper``)
    is mmengine's; only the wrapper's ``clip_func`` is narrowed to the
    trainable parameters named by ``clip_prefixes``. HP clips the segmentation head at
    norm 10 but neither the projection head nor the probes::

        optim_wrapper = dict(
            type='OptimWrapper', constructor='SubsetClipOptimWrapperConstructor',
            optimizer=dict(type='AdamW', lr=5e-4, weight_decay=0.1),
            clip_grad=dict(max_norm=10.0),
            clip_prefixes=('decode_head.linear.', 'decode_head.nonlinear.'),
            paramwise_cfg=dict(custom_keys={...}))

    Args:
        optim_wrapper_cfg: mmengine's wrapper config plus ``clip_prefixes``.
        paramwise_cfg: mmengine's paramwise settings.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg=None) -> None:
        super().__init__(optim_wrapper_cfg, paramwise_cfg)
        self.clip_prefixes = tuple(self.optim_wrapper_cfg.pop('clip_prefixes', ()))
        if self.clip_prefixes and 'clip_grad' not in self.optim_wrapper_cfg:
            raise KeyError('clip_prefixes needs clip_grad (e.g. dict(max_norm=10.0)) in '
                           'optim_wrapper.')

    def __call__(self, model: nn.Module) -> OptimWrapper:
        wrapper = super().__call__(model)
        if self.clip_prefixes:
            module = model.module if hasattr(model, 'module') else model
            keep = {id(p) for p in params_with_prefixes(module, self.clip_prefixes)}
            wrapper.clip_func = functools.partial(clip_subset, keep=keep,
                                                  clip_func=wrapper.clip_func)
        return wrapper
