"""Exponential moving average of module weights, shared by every momentum model."""
import torch
import torch.nn as nn


@torch.no_grad()
def ema_update_(target: nn.Module, source: nn.Module, momentum: float) -> None:
    """In-place ``θ_target ← m·θ_target + (1 − m)·θ_source`` over parameters.

    Used for PriMaPs-EM's momentum prototypes θ_M, HP's EMA head and
    MaskContrast's key encoder (each with its own schedule for ``m``).

    Args:
        target: Momentum copy, updated in place.
        source: Online model (same architecture).
        momentum: ``m`` in ``[0, 1]``; ``m = 0`` copies ``source``.
    """
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f'EMA momentum must be in [0, 1], got {momentum}.')
    t_params, s_params = list(target.parameters()), list(source.parameters())
    if len(t_params) != len(s_params):
        raise ValueError(f'EMA target has {len(t_params)} parameters, source {len(s_params)}.')
    for t, s in zip(t_params, s_params):
        t.mul_(momentum).add_(s.detach(), alpha=1.0 - momentum)
