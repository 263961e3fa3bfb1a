"""Freezing a module that must never train (frozen backbones, frozen heads)."""
import torch.nn as nn


def freeze_(module: nn.Module) -> nn.Module:
    """Set ``requires_grad=False`` on every parameter and put ``module`` in eval mode.

    Eval mode does not survive a later ``model.train()``: an owner keeps it by
    calling ``module.eval()`` again in its own ``train`` (see
    :class:`FrozenBackboneSegmentor`, :class:`MaskContrast`).
    """
    module.requires_grad_(False)
    return module.eval()
