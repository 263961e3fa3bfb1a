"""Bias-free weight-normalised prototypes with a per-class gain (PriMaPs-EM's θ_R / θ_M)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


def gain_prototype_logits(feats: Tensor, directions: Tensor, gains: Tensor) -> Tensor:
    """Weight-normed bias-free 1×1 conv on raw features (docs/methods/primaps_em.md eq. 10).

    ``z_k(p) = g_k · <v_k / ||v_k||, F(p)>``

    Args:
        feats: ``B×D×h×w`` features (not normalised).
        directions: ``K×D`` prototype directions ``v``.
        gains: ``(K,)`` gains ``g``.

    Returns:
        ``B×K×h×w`` logits.
    """
    weight = F.normalize(directions, dim=1) * gains[:, None]
    return torch.einsum('bdhw,kd->bkhw', feats, weight)


class GainPrototypes(nn.Module):
    """``K`` prototypes ``(v_k, g_k)`` scoring pixels by gain-scaled projection.

    Equivalent to PyTorch's ``weight_norm`` (``dim=0``) on a bias-free 1×1
    conv: ``v`` and ``g`` are the parameters, the effective weight is
    ``g·v/||v||``, so an EMA over the parameters averages ``v`` and ``g``
    (not the effective weights), as the reference does.

    Args:
        in_channels: Feature width ``D``.
        num_prototypes: ``K``.
    """

    def __init__(self, in_channels: int, num_prototypes: int) -> None:
        super().__init__()
        self.directions = nn.Parameter(torch.randn(num_prototypes, in_channels))
        self.gains = nn.Parameter(torch.ones(num_prototypes))

    def forward(self, feats: Tensor) -> Tensor:
        """``B×D×h×w`` → ``B×K×h×w`` logits."""
        return gain_prototype_logits(feats, self.directions, self.gains)

    @torch.no_grad()
    def reset(self, directions: Tensor) -> None:
        """Set ``v`` to ``directions`` (``K×D``) and every gain to 1."""
        self.directions.copy_(directions.to(self.directions))
        self.gains.fill_(1.0)
