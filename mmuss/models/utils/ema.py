"""Exponential moving average of module weights, shared by every momentum model."""
import torch
import torch.nn as nn


@torch.no_grad()
def ema_update_(target: nn.Module, source: nn.Module, momentum: float) -> None:
    """In-place ``θ_target ← m·θ_target + (1 − m)·θ_source`` over parameters.

    The one EMA step of the package; buffers (e.g. BN statistics) evolve on
    their own. Its users, each with its own ``m`` and moment:

    - PriMaPs-EM's θ_M ← θ_R: :meth:`PrimapsEMHead.update_momentum`, called by
      :class:`PrimapsEMHook` after every ``interval``-th EM iteration;
    - HP's EMA head ← online head: :meth:`HPHead.update_ema`, inside
      :meth:`HPHead.method_loss` once the EMA code of the step is computed
      (before the optimiser step);
    - CAUSE's EMA head ← student: :meth:`CauseHead.update_ema`, at the start of
      :meth:`CauseHead.loss`, i.e. after the previous optimiser step;
    - MaskContrast's key encoder ← query encoder:
      :meth:`MaskContrast.momentum_update`, inside :meth:`MaskContrast.loss`
      before the key forward.

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
