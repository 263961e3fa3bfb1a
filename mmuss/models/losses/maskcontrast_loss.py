"""MaskContrast's pixel-to-mask-prototype contrastive loss and saliency BCE.

Equations: docs/methods/maskcontrast.md eqs. 2–6.
"""
from typing import Dict

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from ..utils.precision import float32_precision


def mask_prototypes(embeddings: Tensor, masks: Tensor) -> Tensor:
    """One prototype per image: the normalised sum of its unit embeddings inside the mask.

    ``P_b = norm( Σ_{p: m_b(p)=1} e_b(p) )`` with ``e_b(p)`` already L2-normalised
    (docs/methods/maskcontrast.md eq. 2, Q5). An empty mask gives the zero vector.

    Args:
        embeddings: ``B×D×H×W`` per-pixel unit embeddings.
        masks: ``B×H×W`` binary masks.

    Returns:
        ``B×D`` prototypes (unit norm, or zero for an empty mask).
    """
    sums = torch.einsum('bdhw,bhw->bd', embeddings, masks.to(embeddings.dtype))
    return F.normalize(sums, dim=1)


def prototype_logits(queries: Tensor, prototypes: Tensor, queue: Tensor,
                     temperature: float) -> Tensor:
    """Pixel → (batch prototypes, queue entries) similarity logits.

    ``z_i = [⟨q_i, P_1⟩ … ⟨q_i, P_B⟩, ⟨q_i, Q_1⟩ … ⟨q_i, Q_K⟩] / T``
    (docs/methods/maskcontrast.md eq. 3).

    Args:
        queries: ``N×D`` unit query embeddings of the selected pixels.
        prototypes: ``B×D`` key prototypes of the batch.
        queue: ``D×K`` queued prototypes (negatives).
        temperature: ``T``.

    Returns:
        ``N×(B+K)`` logits.
    """
    return torch.cat([queries @ prototypes.T, queries @ queue], dim=1) / temperature


def enet_weights(targets: Tensor, num_classes: int, c: float = 1.02) -> Tensor:
    """E-Net class weights ``w_b = 1 / ln(c + π_b)`` (docs/methods/maskcontrast.md eq. 4).

    Args:
        targets: ``(N,)`` class index per selected pixel.
        num_classes: Number of classes ``B``.
        c: The E-Net constant (1.02).

    Returns:
        ``(B,)`` weights, ``π_b`` being class ``b``'s fraction of ``targets``.
    """
    freq = torch.bincount(targets, minlength=num_classes).to(torch.float32)
    return 1.0 / torch.log(c + freq / freq.sum().clamp_min(1.0))


def weighted_cross_entropy(logits: Tensor, targets: Tensor, class_weights: Tensor) -> Tensor:
    """Class-weighted CE with PyTorch's "mean" reduction.

    ``L = Σ_i w_{y_i} ℓ_i / Σ_i w_{y_i}`` with ``ℓ_i = −log softmax(z_i)_{y_i}``.

    Args:
        logits: ``N×M`` logits (``N >= 1``).
        targets: ``(N,)`` indices into the first ``len(class_weights)`` columns.
        class_weights: Weight of each target class.

    Returns:
        Scalar loss.
    """
    nll = -F.log_softmax(logits, dim=1).gather(1, targets[:, None])[:, 0]
    w = class_weights.to(logits)[targets]
    return (w * nll).sum() / w.sum()


def balanced_saliency_bce(logits: Tensor, target: Tensor) -> Tensor:
    """Class-balanced (HED-style) BCE of saliency logits (docs/methods/maskcontrast.md eq. 6).

    With ``N`` pixels, ``N+`` salient and ``N−`` not:
    ``L = (1/N) Σ_p [ (N−/N)·y_p·(−log σ(s_p)) + (N+/N)·(1−y_p)·(−log(1−σ(s_p))) ]``,
    the fractions taken over the whole batch.

    Args:
        logits: ``B×H×W`` saliency logits ``s``.
        target: ``B×H×W`` binary saliency ``y``.

    Returns:
        Scalar loss (0 when every pixel has the same label).
    """
    y = target.to(logits.dtype)
    total = y.numel()
    pos_frac = y.sum() / total
    bce = F.binary_cross_entropy_with_logits(logits, y, reduction='none')
    weights = (1 - pos_frac) * y + pos_frac * (1 - y)
    return (weights * bce).sum() / total


def topk_accuracy(logits: Tensor, targets: Tensor, k: int) -> Tensor:
    """Fraction of rows whose target is among the ``k`` largest logits."""
    k = min(k, logits.shape[1])
    hits = (logits.topk(k, dim=1).indices == targets[:, None]).any(dim=1)
    return hits.float().mean()


@MODELS.register_module()
class MaskContrastLoss(nn.Module):
    """E-Net-weighted pixel → mask-prototype contrastive loss plus saliency BCE.

    Only salient query pixels enter the contrastive term; their positive is the
    key prototype of their own image, the negatives are the other images' key
    prototypes and the queue (docs/methods/maskcontrast.md eqs. 3, 5, Q6). When
    no query pixel is salient the contrastive term is an exact zero (no NaN).

    Args:
        temperature: ``T`` (0.5).
        saliency_weight: Weight of the saliency BCE (1.0).
        enet_c: E-Net constant (1.02).
    """

    def __init__(self, temperature: float = 0.5, saliency_weight: float = 1.0,
                 enet_c: float = 1.02) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}.')
        self.temperature = temperature
        self.saliency_weight = saliency_weight
        self.enet_c = enet_c

    @float32_precision
    def forward(self, query_embeddings: Tensor, query_saliency_logits: Tensor,
                query_masks: Tensor, key_prototypes: Tensor, queue: Tensor) -> Dict[str, Tensor]:
        """Losses and pixel → prototype accuracies.

        Args:
            query_embeddings: ``B×D×H×W`` unit query embeddings.
            query_saliency_logits: ``B×H×W`` query saliency logits.
            query_masks: ``B×H×W`` binary query saliency.
            key_prototypes: ``B×D`` key prototypes.
            queue: ``D×K`` queued prototypes.

        Returns:
            ``loss_contrastive``, ``loss_saliency``, ``acc_top1``, ``acc_top5``.
        """
        batch, dims = query_embeddings.shape[:2]
        selected = query_masks.bool()
        pixels = query_embeddings.permute(0, 2, 3, 1)[selected]
        targets = torch.arange(batch, device=pixels.device)[:, None, None].expand_as(
            selected)[selected]
        losses = dict(loss_saliency=self.saliency_weight *
                      balanced_saliency_bce(query_saliency_logits, query_masks))
        if targets.numel() == 0:
            zero = query_embeddings.sum() * 0
            losses.update(loss_contrastive=zero, acc_top1=zero.detach(), acc_top5=zero.detach())
            return losses
        logits = prototype_logits(pixels.reshape(-1, dims), key_prototypes, queue,
                                  self.temperature)
        weights = enet_weights(targets, batch, self.enet_c)
        losses['loss_contrastive'] = weighted_cross_entropy(logits, targets, weights)
        with torch.no_grad():
            losses['acc_top1'] = topk_accuracy(logits, targets, 1)
            losses['acc_top5'] = topk_accuracy(logits, targets, 5)
        return losses
