"""Freezing: the one place modules stop training (frozen backbones and heads, momentum copies)."""
import copy

import torch.nn as nn


def freeze_(module: nn.Module, eval_mode: bool = True) -> nn.Module:
    """``requires_grad=False`` for all parameters, and eval mode unless ``eval_mode=False``.

    Owners that keep a frozen part in eval mode redo it in their ``train``.
    """
    module.requires_grad_(False)
    return module.eval() if eval_mode else module


def frozen_copy(module: nn.Module) -> nn.Module:
    """A deep copy without parameter gradients, in ``module``'s mode: a momentum teacher
    (:class:`EMATeacher`) runs in its owner's train/eval mode."""
    return freeze_(copy.deepcopy(module), eval_mode=False)
