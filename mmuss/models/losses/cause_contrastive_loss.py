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


def key_chunks(keys: Tensor, key_codes: Tensor, chunk: int):
    """``(index, keys, codes)`` of the used key rows (``key_codes >= 0``), ``chunk`` at a time,
    each chunk converted to float32 on its own."""
    rows = torch.nonzero(key_codes >= 0).flatten()
    for start in range(0, rows.numel(), chunk):
        idx = rows[start:start + chunk]
        yield idx, keys[idx].float(), key_codes[idx]


class _ConceptInfoNCE(torch.autograd.Function):
    """Per-anchor ``Σ_{j∈pos_i} ℓ_ij``, streamed over key chunks, gradient formed in forward.

    Keys are constants, so ``∂L_i/∂a_i = (1/τ)(n_i Σ_l p_il k_l − Σ_{j∈pos_i} k_j)``
    with ``p_i`` the softmax over the row's positives and negatives and
    ``n_i = |pos_i|``. The softmax-weighted key sum and the log-sum-exp are
    accumulated chunk by chunk with a running maximum (as in streaming
    attention), ``Σ_{pos} k`` from per-concept key sums; only ``R×P`` tensors
    are kept, never the ``R×M`` similarities (the bank has ``M`` = 204,800).
    """

    @staticmethod
    def forward(ctx, anchors: Tensor, keys: Tensor, concept_rows: Tensor, key_codes: Tensor,
                temperature: float, pos_thresh: float, neg_thresh: float, exclude_self: bool,
                chunk: int):
        a = anchors.float()
        r, p = a.shape
        run_max = a.new_full((r, ), float('-inf'))
        run_sum = a.new_zeros(r)
        acc = a.new_zeros(r, p)
        concept_sums = a.new_zeros(concept_rows.shape[1], p)
        row_ids = torch.arange(r, device=a.device)
        for idx, kc, codes in key_chunks(keys, key_codes, chunk):
            g = concept_rows[:, codes]
            keep = (g > pos_thresh) | (g < neg_thresh)
            if exclude_self:
                keep &= row_ids[:, None] != idx[None, :]
            logits = (a @ kc.T / temperature).masked_fill_(~keep, float('-inf'))
            new_max = torch.maximum(run_max, logits.amax(dim=1))
            shift = torch.where(torch.isfinite(new_max), new_max, 0.0)
            scale = torch.exp(run_max - shift)
            weights = logits.sub_(shift[:, None]).exp_()
            run_sum = run_sum * scale + weights.sum(dim=1, dtype=torch.float32)
            acc = acc * scale[:, None] + weights @ kc
            run_max = new_max
            concept_sums.index_add_(0, codes, kc)
        counts = torch.bincount(key_codes[key_codes >= 0], minlength=concept_rows.shape[1])
        positive = (concept_rows > pos_thresh).float()
        num_pos = positive @ counts.float()
        pos_sum = positive @ concept_sums
        if exclude_self:
            self_pos = (concept_rows.gather(1, key_codes[:r, None]) > pos_thresh).float()
            num_pos = num_pos - self_pos[:, 0]
            pos_sum = pos_sum - self_pos * keys[:r].float()
        has = num_pos > 0
        lse = run_max + torch.log(run_sum.clamp_min(1e-30))
        totals = torch.where(has, num_pos * lse - (a * pos_sum).sum(dim=1) / temperature, 0.0)
        grad = (num_pos / run_sum.clamp_min(1e-30))[:, None] * acc - pos_sum
        grad = torch.where(has[:, None], grad / temperature, 0.0)
        ctx.save_for_backward(grad.to(anchors.dtype))
        ctx.mark_non_differentiable(num_pos)
        return totals, num_pos

    @staticmethod
    def backward(ctx, grad_totals: Tensor, grad_counts: Tensor):
        grad, = ctx.saved_tensors
        return (grad * grad_totals[:, None], ) + (None, ) * 8


def concept_info_nce(anchors: Tensor, keys: Tensor, concept_rows: Tensor, key_codes: Tensor,
                     temperature: float, pos_thresh: float, neg_thresh: float,
                     exclude_self: bool = False, chunk: int = 16384) -> Tuple[Tensor, Tensor]:
    """Per-anchor sum and count of ``ℓ_ij`` over its positive keys.

    ``ℓ_ij = −s_ij/τ + log Σ_{l: pos_il ∨ neg_il} exp(s_il/τ)``, ``s = a kᵀ``;
    key ``j`` is a positive of anchor ``i`` when the concept similarity
    ``g_ij = concept_rows[i, key_codes[j]] > pos_thresh``, a negative when
    ``g_ij < neg_thresh``; keys in between are left out of the denominator.
    Differentiable in ``anchors`` only.

    Args:
        anchors: ``R×P`` unit anchors.
        keys: ``M×P`` unit keys (any float dtype; converted chunk by chunk).
        concept_rows: ``R×K`` similarity of each anchor's concept to every concept.
        key_codes: ``M`` concept of every key; ``-1`` marks an unused row.
        temperature: ``τ``.
        pos_thresh: Positive threshold on ``g``.
        neg_thresh: Negative threshold on ``g``.
        exclude_self: Anchor ``i`` and key ``i`` are the same patch (the
            in-batch term): that pair is neither positive nor negative.
        chunk: Keys per chunk.

    Returns:
        ``(totals, counts)``: ``R`` sums ``Σ_{j∈pos_i} ℓ_ij`` and ``R`` counts ``|pos_i|``.
    """
    return _ConceptInfoNCE.apply(anchors, keys.detach(), concept_rows, key_codes, temperature,
                                 pos_thresh, neg_thresh, exclude_self, chunk)


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
    ``L_b = mean_{(i,j) pos} ℓ_ij`` (:func:`concept_info_nce`). The loss is the
    mean of the ``B`` in-batch terms and, with a non-empty bank, the ``B``
    bank terms. A term without a positive pair is left out of the mean (the
    reference returns NaN then); without any, the loss is ``0·Σz``.

    Args:
        proj: ``B×N×P`` student embeddings (gradient flows here).
        proj_ema: ``B×N×P`` EMA-teacher embeddings (constants).
        codes: ``B×N`` codeword index of every patch.
        codebook: ``K×D`` clusterbook.
        bank_keys: ``M×P`` unit EMA embeddings of the concept bank, or ``None``.
        bank_codes: ``M`` concept of every bank row, ``-1`` for an empty slot.
        temperature: ``τ`` (0.07).
        pos_thresh: Positive threshold on ``g`` (0.3).
        neg_thresh: Negative threshold on ``g`` (0.1).

    Returns:
        Scalar loss.
    """
    b, n, _ = proj.shape
    anchors = F.normalize(proj.float(), dim=-1).reshape(b * n, -1)
    keys = F.normalize(proj_ema.detach().float(), dim=-1).reshape(b * n, -1)
    flat_codes = codes.reshape(-1)
    rows = codeword_similarity(codebook).to(proj.device)[flat_codes]
    args = (temperature, pos_thresh, neg_thresh)
    terms = [concept_info_nce(anchors, keys, rows, flat_codes, *args, exclude_self=True)]
    if bank_keys is not None and bool((bank_codes >= 0).any()):
        terms.append(concept_info_nce(anchors, bank_keys, rows, bank_codes, *args))
    totals = torch.cat([t.reshape(b, n).sum(dim=1) for t, _ in terms])
    counts = torch.cat([c.reshape(b, n).sum(dim=1) for _, c in terms])
    valid = counts > 0
    if not bool(valid.any()):
        return proj.sum() * 0.0
    return (totals[valid] / counts[valid]).mean()


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
