"""Freezing a module that must never train (frozen backbones, frozen heads)."""
import torch.nn as nn


def freeze_(module: nn.Module) -> nn.Module:
    """``requires_grad=False`` for all parameters, and eval mode (owners redo it in ``train``)."""
    module.requires_grad_(False)
    return module.eval()
