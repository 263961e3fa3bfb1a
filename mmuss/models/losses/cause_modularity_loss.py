"""CAUSE's modularity objective: prototypes that maximise the modularity of a patch graph."""
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from ..utils.precision import float32_precision


def modularity_matrix(feats: Tensor) -> Tuple[Tensor, Tensor]:
    """Modularity matrix of each image's patch-affinity graph.

    ``A_ij = max(0, cos(f_i, f_j))`` for ``i ≠ j`` (``A_ii = 0``), degrees
    ``d_i = Σ_j A_ij``, total weight ``e = Σ_ij A_ij`` (``= 2m``) and
    ``W_ij = A_ij − d_i d_j / e``.

    Args:
        feats: ``B×N×D`` patch features.

    Returns:
        ``(W, e)``: ``B×N×N`` and ``B×1×1``.
    """
    unit = F.normalize(feats, dim=-1)
    affinity = (unit @ unit.transpose(1, 2)).clamp_min(0)
    affinity = affinity * (1 - torch.eye(affinity.shape[-1], device=feats.device,
                                         dtype=affinity.dtype))
    degree = affinity.sum(dim=2, keepdim=True)
    total = affinity.sum(dim=(1, 2), keepdim=True)
    return affinity - degree @ degree.transpose(1, 2) / total, total


def cluster_assignment(feats: Tensor, prototypes: Tensor) -> Tensor:
    """``C_ik = max(0, cos(f_i, c_k))``: ``B×N×D``, ``K×D`` -> ``B×N×K``."""
    return (F.normalize(feats, dim=-1) @ F.normalize(prototypes.to(feats), dim=-1).T).clamp_min(0)


def concept_coincidence(assign: Tensor, temperature: float, chunk: int = 256) -> Tensor:
    """Soft "same cluster" indicator ``δ_ij = max_k tanh(C_ik C_jk / τ)``.

    Computed as ``tanh(C_{i k*} C_{j k*} / τ)`` with ``k* = argmax_k C_ik C_jk``
    (tanh is increasing, so the value and the gradient are those of the max)
    without materialising the ``B×K×N×N`` tensor: ``k*`` is searched in
    chunks of ``chunk`` prototypes without autograd.

    Args:
        assign: ``B×N×K`` assignments ``C`` (non-negative).
        temperature: ``τ``.
        chunk: Prototypes per search chunk.

    Returns:
        ``B×N×N``.
    """
    b, n, k = assign.shape
    with torch.no_grad():
        best = assign.new_full((b, n, n), -1.0)
        best_idx = torch.zeros((b, n, n), dtype=torch.long, device=assign.device)
        for start in range(0, k, chunk):
            part = assign[..., start:start + chunk]
            value, idx = (part.unsqueeze(2) * part.unsqueeze(1)).max(dim=-1)
            better = value > best
            best = torch.where(better, value, best)
            best_idx = torch.where(better, idx + start, best_idx)
    own = assign.gather(2, best_idx)
    return torch.tanh(own * own.transpose(1, 2) / temperature)


def modularity_loss(feats: Tensor, prototypes: Tensor, temperature: float = 0.1) -> Tensor:
    """Negative soft modularity, averaged over images (CAUSE, Eq. of the mediator).

    ``L = −(1/B) Σ_b (1/e_b) Σ_ij W_bij δ_bij`` with ``W, e`` from
    :func:`modularity_matrix` and ``δ`` from :func:`concept_coincidence` of
    :func:`cluster_assignment` (the reference's ``−trace((W/e) δ)``, ``δ``
    symmetric). Gradients reach ``prototypes`` only: ``feats`` are detached.

    Args:
        feats: ``B×N×D`` patch features.
        prototypes: ``K×D`` prototypes (the clusterbook, or the cluster probe).
        temperature: ``τ`` of :func:`concept_coincidence` (0.1).

    Returns:
        Scalar loss.
    """
    feats = feats.detach()
    weights, total = modularity_matrix(feats)
    delta = concept_coincidence(cluster_assignment(feats, prototypes), temperature)
    return -((weights / total) * delta).sum(dim=(1, 2)).mean()


@MODELS.register_module()
class CauseModularityLoss(nn.Module):
    """:func:`modularity_loss` of ``B×D×h×w`` feature maps.

    Args:
        temperature: ``τ`` (0.1 in the reference).
        loss_weight: Multiplier.
    """

    def __init__(self, temperature: float = 0.1, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.temperature = temperature
        self.loss_weight = loss_weight

    @float32_precision
    def forward(self, maps: Tensor, prototypes: Tensor) -> Tensor:
        feats = maps.flatten(2).transpose(1, 2)
        return self.loss_weight * modularity_loss(feats, prototypes, self.temperature)
