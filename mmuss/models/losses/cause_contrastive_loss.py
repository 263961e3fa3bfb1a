"""CAUSE's concept-wise contrastive loss: positives and negatives chosen through the clusterbook."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor


def codeword_similarity(codebook: Tensor) -> Tensor:
    """``G_kl = cos(c_k, c_l)``: ``K×D`` -> ``K×K``."""
    unit = F.normalize(codebook.float(), dim=1)
    return unit @ unit.T


class _ConstantKeyInfoNCE(torch.autograd.Function):
    """Sum of ``ℓ_ij`` over positives whose gradient is formed in the forward pass.

    The keys are constants, so ``∂/∂a_i = (1/τ) Σ_l (n_i p_il − pos_il) k_l``
    with ``p_i`` the softmax over the row's positives and negatives and
    ``n_i`` its number of positives; only this ``N×P`` gradient is kept, not
    the ``N×M`` similarities (the bank has ``M`` = 204,800 keys).
    """

    @staticmethod
    def forward(ctx, anchors: Tensor, keys: Tensor, pos: Tensor, neg: Tensor,
                temperature: float) -> Tensor:
        logits = (anchors.float() @ keys.float().T) / temperature
        logits = logits.masked_fill_(~(pos | neg), float('-inf'))
        counts = pos.sum(dim=1).to(logits.dtype)
        rows = counts > 0
        lse = torch.logsumexp(logits[rows], dim=1)
        total = (counts[rows] * lse).sum() - logits[pos].sum()
        shift = logits.amax(dim=1)
        weights = logits.sub_(torch.where(torch.isfinite(shift), shift, 0.0)[:, None]).exp_()
        weights.mul_((counts / weights.sum(dim=1).clamp_min(1e-30))[:, None])
        weights.sub_(pos.to(weights.dtype))
        ctx.save_for_backward(((weights @ keys.float()) / temperature).to(anchors.dtype))
        return total

    @staticmethod
    def backward(ctx, grad_total: Tensor):
        grad, = ctx.saved_tensors
        return grad * grad_total, None, None, None, None


def masked_info_nce(anchors: Tensor, keys: Tensor, pos: Tensor, neg: Tensor,
                    temperature: float) -> Tuple[Tensor, Tensor]:
    """Sum and count of ``ℓ_ij`` over the positive pairs ``(i, j)``.

    ``ℓ_ij = −s_ij/τ + log Σ_{l: pos_il ∨ neg_il} exp(s_il/τ)`` with
    ``s = anchors · keysᵀ``: each positive is contrasted with the row's
    positives and negatives; pairs that are neither do not enter the
    denominator. Differentiable in ``anchors`` only (keys are constants).

    Args:
        anchors: ``N×P`` unit anchors.
        keys: ``M×P`` unit keys.
        pos: ``N×M`` positive mask.
        neg: ``N×M`` negative mask.
        temperature: ``τ``.

    Returns:
        ``(Σ_{pos} ℓ_ij, number of positive pairs)``, both scalars.
    """
    return (_ConstantKeyInfoNCE.apply(anchors, keys.detach(), pos, neg, temperature),
            pos.sum().to(torch.float32))


def concept_contrastive_loss(proj: Tensor, proj_ema: Tensor, codes: Tensor, codebook: Tensor,
                             bank_keys: Optional[Tensor] = None,
                             bank_codes: Optional[Tensor] = None, temperature: float = 0.07,
                             pos_thresh: float = 0.3, neg_thresh: float = 0.1) -> Tensor:
    """CAUSE's front-door contrastive loss (student anchors vs EMA keys).

    For the patches ``i`` of image ``b`` (anchors, student embeddings ``z``)
    and keys ``j`` (EMA embeddings ``z'`` of all patches in the batch, then of
    the concept bank), with ``s_ij = cos(z_i, z'_j)`` and the concept
    similarity ``g_ij = cos(c_{q(i)}, c_{q(j)})``: positives ``g_ij > pos_thresh``
    (in the batch term not ``j = i``), negatives ``g_ij < neg_thresh``, and
    ``L_b = mean_{(i,j) pos} ℓ_ij`` (:func:`masked_info_nce`). The loss is the
    mean of the ``B`` in-batch terms and, with a non-empty bank, the ``B``
    bank terms. A term without a positive pair is left out of the mean (the
    reference returns NaN then); without any, the loss is ``0·Σz``.

    Args:
        proj: ``B×N×P`` student embeddings (gradient flows here).
        proj_ema: ``B×N×P`` EMA-teacher embeddings (constants).
        codes: ``B×N`` codeword index of every patch.
        codebook: ``K×D`` clusterbook.
        bank_keys: ``M×P`` EMA embeddings stored in the concept bank, or ``None``.
        bank_codes: ``M`` codeword index of every bank key.
        temperature: ``τ`` (0.07).
        pos_thresh: Positive threshold on ``g`` (0.3).
        neg_thresh: Negative threshold on ``g`` (0.1).

    Returns:
        Scalar loss.
    """
    b, n, _ = proj.shape
    anchors = F.normalize(proj.float(), dim=-1)
    keys = F.normalize(proj_ema.detach().float(), dim=-1).reshape(b * n, -1)
    concept = codeword_similarity(codebook).to(proj.device)
    flat_codes = codes.reshape(-1)
    has_bank = bank_keys is not None and bank_keys.shape[0] > 0
    if has_bank:
        bank = F.normalize(bank_keys.detach().float(), dim=-1)
    terms = []
    for i in range(b):
        g = concept[codes[i]]
        g_batch = g[:, flat_codes]
        pos = g_batch > pos_thresh
        pos[:, i * n:(i + 1) * n].fill_diagonal_(False)
        terms.append(masked_info_nce(anchors[i], keys, pos, g_batch < neg_thresh, temperature))
        if has_bank:
            g_bank = g[:, bank_codes]
            terms.append(masked_info_nce(anchors[i], bank, g_bank > pos_thresh,
                                         g_bank < neg_thresh, temperature))
    means = [total / count for total, count in terms if count > 0]
    if not means:
        return proj.sum() * 0.0
    return torch.stack(means).mean()


@MODELS.register_module()
class CauseContrastiveLoss(nn.Module):
    """:func:`concept_contrastive_loss` with the reference's hyper-parameters.

    Args:
        temperature: ``τ`` (0.07).
        pos_thresh: Concept-similarity threshold of positives (0.3).
        neg_thresh: Concept-similarity threshold of negatives (0.1).
        loss_weight: Multiplier.
    """

    def __init__(self, temperature: float = 0.07, pos_thresh: float = 0.3,
                 neg_thresh: float = 0.1, loss_weight: float = 1.0) -> None:
        super().__init__()
        if neg_thresh > pos_thresh:
            raise ValueError(f'neg_thresh={neg_thresh} must not exceed pos_thresh={pos_thresh}.')
        self.temperature = temperature
        self.pos_thresh = pos_thresh
        self.neg_thresh = neg_thresh
        self.loss_weight = loss_weight

    def forward(self, proj: Tensor, proj_ema: Tensor, codes: Tensor, codebook: Tensor,
                bank_keys: Optional[Tensor] = None,
                bank_codes: Optional[Tensor] = None) -> Tensor:
        return self.loss_weight * concept_contrastive_loss(
            proj, proj_ema, codes, codebook, bank_keys, bank_codes, self.temperature,
            self.pos_thresh, self.neg_thresh)
