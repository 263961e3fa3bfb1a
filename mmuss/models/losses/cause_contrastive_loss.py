"""CAUSE's concept-wise contrastive loss: positives and negatives chosen through the clusterbook."""
from typing import Iterator, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from ..utils.precision import float32_precision


def codeword_similarity(codebook: Tensor) -> Tensor:
    """``G_kl = cos(c_k, c_l)``: ``K×D`` -> ``K×K``."""
    unit = F.normalize(codebook.float(), dim=1)
    return unit @ unit.T


def unit_anchor_factors(code: Tensor, weight: Tensor, bias: Tensor) -> Tuple[Tensor, Tensor]:
    """The student embeddings ``a_i = z_i/‖z_i‖``, ``z_i = W c_i + b``, as ``a_i = V ũ_i``.

    ``V = [W | b]`` (``P×(D+1)``) and ``ũ_i = [c_i; 1] / ‖z_i‖``, so every
    similarity ``a_i·k = ũ_i·(Vᵀk)`` has inner width ``D + 1`` instead of ``P``.

    Args:
        code: ``R×D`` student code.
        weight: ``P×D`` projection weight ``W``.
        bias: ``P`` projection bias ``b``.

    Returns:
        ``(ũ, V)``: ``R×(D+1)`` and ``P×(D+1)``, differentiable.
    """
    u = torch.cat([code.float(), code.new_ones(code.shape[0], 1, dtype=torch.float)], dim=1)
    v = torch.cat([weight.float(), bias.float()[:, None]], dim=1)
    norms = (u @ v.T).norm(dim=1, keepdim=True).clamp_min(1e-12)
    return u / norms, v


class ConceptPairs:
    """Which keys are positives/negatives of each anchor, from the concept similarity ``g``.

    Keys of the unused concept ``-1`` (empty bank slots) are skipped: the keys
    are streamed in contiguous chunks when all are used, gathered otherwise.
    Attributes: ``positive`` ``R×K`` (float 0/1), ``dropped_by_concept``
    ``K×R`` (pairs outside the denominator), ``key_codes`` ``M'`` (used keys),
    ``num_pos`` ``R`` (``|pos_i|``).

    Args:
        concept_rows: ``R×K`` similarity ``g`` of each anchor's concept to every concept.
        key_codes: ``M`` concept of every key; ``-1`` marks an unused row.
        pos_thresh: ``g`` above it: positive.
        neg_thresh: ``g`` below it: negative; in between: left out.
        exclude_self: Anchor ``i`` and key ``i`` are the same patch (the
            in-batch term, all keys used): that pair is neither positive nor negative.
    """

    def __init__(self, concept_rows: Tensor, key_codes: Tensor, pos_thresh: float,
                 neg_thresh: float, exclude_self: bool) -> None:
        num, concepts = concept_rows.shape
        used = key_codes >= 0
        self.rows = None if bool(used.all()) else torch.nonzero(used).flatten()
        if exclude_self and self.rows is not None:
            raise ValueError('exclude_self pairs anchor i with key i: every key must be used.')
        self.key_codes = key_codes if self.rows is None else key_codes[self.rows]
        positive = concept_rows > pos_thresh
        self.positive = positive.float()
        self.dropped_by_concept = (~(positive | (concept_rows < neg_thresh))).T.contiguous()
        self.exclude_self = exclude_self
        counts = torch.bincount(self.key_codes, minlength=concepts).float()
        self.num_pos = self.positive @ counts
        if exclude_self:
            self.self_pos = self.positive.gather(1, self.key_codes[:num, None])
            self.num_pos = self.num_pos - self.self_pos[:, 0]

    def chunks(self, keys: Tensor, chunk: int) -> Iterator[Tuple[int, Tensor, Tensor]]:
        """``(start, keys, codes)`` of ``chunk`` used keys at a time, converted to float32."""
        for start in range(0, self.key_codes.numel(), chunk):
            codes = self.key_codes[start:start + chunk]
            if self.rows is None:
                part = keys[start:start + chunk]
            else:
                part = keys.index_select(0, self.rows[start:start + chunk])
            yield start, part.float(), codes

    def dropped_mask(self, start: int, codes: Tensor) -> Tensor:
        """``m×R`` pairs outside the denominator for the keys ``start …`` with ``codes``."""
        dropped = self.dropped_by_concept.index_select(0, codes)
        if self.exclude_self:
            own = torch.arange(start, min(start + codes.numel(), dropped.shape[1]),
                               device=codes.device)
            dropped[own - start, own] = True
        return dropped


@torch.no_grad()
def concept_log_partition(anchors: Tensor, v: Tensor, keys: Tensor, pairs: ConceptPairs,
                          temperature: float, chunk: int) -> Tuple[Tensor, Tensor, Tensor]:
    """``lse_i = log Σ_{l ∈ pos_i ∪ neg_i} exp(a_i·k_l/τ)``, ``Σ_{j ∈ pos_i} Vᵀk_j`` and
    the keys' ``y_l = Vᵀk_l``, streamed over key chunks.

    Args:
        anchors: ``R×r`` factors ``ũ`` (:func:`unit_anchor_factors`).
        v: ``P×r`` factor ``V``.
        keys: ``M×P`` unit keys (any float dtype).
        pairs: The anchors' positives/negatives against the keys.
        temperature: ``τ``.
        chunk: Keys per chunk.

    Returns:
        ``(lse, pos_y, y)``: ``R`` log-partitions (``-inf`` without any kept
        key), ``R×r`` sums of the positives' ``y_j`` (from per-concept sums)
        and the used keys' ``M'×r`` ``y``.
    """
    scaled = (anchors / temperature).T
    run_max = anchors.new_full((anchors.shape[0], ), float('-inf'))
    run_sum = anchors.new_zeros(anchors.shape[0])
    concept_y = anchors.new_zeros(pairs.positive.shape[1], anchors.shape[1])
    own_y = torch.zeros_like(anchors)
    projected = anchors.new_empty(pairs.key_codes.numel(), v.shape[1])
    for start, kc, codes in pairs.chunks(keys, chunk):
        y = torch.mm(kc, v, out=projected[start:start + codes.numel()])
        concept_y.index_add_(0, codes, y)
        if pairs.exclude_self and start < own_y.shape[0]:
            own_y[start:start + codes.numel()] = y[:own_y.shape[0] - start]
        logits = y @ scaled
        logits.masked_fill_(pairs.dropped_mask(start, codes), float('-inf'))
        new_max = torch.maximum(run_max, logits.amax(dim=0))
        shift = torch.where(torch.isfinite(new_max), new_max, 0.0)
        run_sum = (run_sum * torch.exp(run_max - shift)
                   + logits.sub_(shift).exp_().sum(dim=0))
        run_max = new_max
    pos_y = pairs.positive @ concept_y
    if pairs.exclude_self:
        pos_y -= pairs.self_pos * own_y
    return run_max + torch.log(run_sum.clamp_min(1e-30)), pos_y, projected


class _ConceptInfoNCE(torch.autograd.Function):
    """``Σ_i w_i Σ_{j∈pos_i} ℓ_ij`` with ``a_i = V ũ_i``; gradient formed in forward.

    With ``s_il = ũ_i·y_l/τ``, ``y_l = Vᵀk_l``, ``p_il = exp(s_il − lse_i)``
    over the kept keys and ``c_il = w_i(n_i p_il − [l ∈ pos_i])``:
    ``∂L/∂ũ_i = (1/τ) Σ_l c_il y_l`` and ``∂L/∂V = (1/τ) Σ_l k_l (Σ_i c_il ũ_i)ᵀ``.
    The positive parts come from per-concept sums, the softmax parts from a
    second pass over the key chunks with the known ``lse`` and the first
    pass's ``y`` (``M×r``, 71 MiB for a full bank: one ``M×P×r`` product
    fewer); every product has inner width ``r = D + 1`` (or runs over keys),
    none ``R×M×P``.
    """

    @staticmethod
    def forward(ctx, anchors: Tensor, v: Tensor, weights: Tensor, keys: Tensor, y: Tensor,
                pos_y: Tensor, lse: Tensor, pairs: ConceptPairs, temperature: float,
                chunk: int) -> Tensor:
        u = anchors.detach().float()
        has = pairs.num_pos > 0
        w = torch.where(has, weights.float(), 0.0)
        wn = w * pairs.num_pos
        safe_lse = torch.where(has, lse, 0.0)
        total = (w * (pairs.num_pos * safe_lse - (u * pos_y).sum(dim=1) / temperature)).sum()
        soft_y = torch.zeros_like(u)
        grad_v = u.new_zeros(v.shape)
        scaled = (u / temperature).T
        neg_lse = torch.where(has, -lse, -1.0 / temperature)[None]
        pos_u = pairs.positive.T @ (w[:, None] * u)
        self_u = (w[:, None] * pairs.self_pos) * u if pairs.exclude_self else None
        for start, kc, codes in pairs.chunks(keys, chunk):
            yc = y[start:start + codes.numel()]
            p = torch.addmm(neg_lse, yc, scaled).exp_()
            p.masked_fill_(pairs.dropped_mask(start, codes), 0.0)
            soft_y += p.T @ yc
            t = p @ (wn[:, None] * u) - pos_u[codes]
            if self_u is not None:
                t[:max(0, self_u.shape[0] - start)] += self_u[start:start + codes.numel()]
            grad_v += kc.T @ t
        grad_u = (wn[:, None] * soft_y - w[:, None] * pos_y) / temperature
        ctx.save_for_backward(grad_u.to(anchors.dtype), (grad_v / temperature).to(v.dtype))
        return total

    @staticmethod
    def backward(ctx, grad_total: Tensor) -> tuple:
        grad_u, grad_v = ctx.saved_tensors
        return (grad_u * grad_total, grad_v * grad_total) + (None, ) * 8


def concept_info_nce(anchors: Tensor, v: Tensor, keys: Tensor, pairs: ConceptPairs,
                     weights: Tensor, temperature: float, chunk: int = 1024) -> Tensor:
    """``Σ_i w_i Σ_{j∈pos_i} ℓ_ij``, differentiable in ``ũ`` and ``V`` (the keys are constants).

    ``ℓ_ij = −s_ij/τ + log Σ_{l: pos_il ∨ neg_il} exp(s_il/τ)``,
    ``s_ij = a_i·k_j`` with ``a_i = V ũ_i`` (:func:`unit_anchor_factors`);
    key ``j`` is a positive of anchor ``i`` when the concept similarity
    ``g_ij > pos_thresh``, a negative when ``g_ij < neg_thresh``
    (:class:`ConceptPairs`); keys in between are left out of the denominator.
    Two streamed passes over the keys (:func:`concept_log_partition`, then
    :class:`_ConceptInfoNCE`); anchors without a positive contribute 0.

    Args:
        anchors: ``R×r`` anchor factors ``ũ``.
        v: ``P×r`` factor ``V``.
        keys: ``M×P`` unit keys (any float dtype; converted chunk by chunk).
        pairs: Positives/negatives of the anchors against the keys.
        weights: ``R`` weights ``w_i``.
        temperature: ``τ``.
        chunk: Keys per chunk.

    Returns:
        Scalar weighted total.
    """
    if pairs.key_codes.numel() == 0:
        return anchors.sum() * 0.0 + v.sum() * 0.0
    keys = keys.detach()
    lse, pos_y, y = concept_log_partition(anchors.detach().float(), v.detach().float(), keys,
                                          pairs, temperature, chunk)
    return _ConceptInfoNCE.apply(anchors, v, weights.detach(), keys, y, pos_y, lse, pairs,
                                 temperature, chunk)


@float32_precision(keep=('bank_keys', ))
def concept_contrastive_loss(code: Tensor, weight: Tensor, bias: Tensor, proj_ema: Tensor,
                             codes: Tensor, codebook: Tensor,
                             bank_keys: Optional[Tensor] = None,
                             bank_codes: Optional[Tensor] = None, temperature: float = 0.07,
                             pos_thresh: float = 0.3, neg_thresh: float = 0.1,
                             chunk: int = 1024) -> Tensor:
    """CAUSE's front-door contrastive loss (student anchors vs EMA keys).

    For the patches ``i`` of image ``b`` (anchors, student embeddings
    ``z_i = W c_i + b`` of the student code ``c``) and keys ``j`` (EMA
    embeddings ``z'`` of all patches in the batch, then of the concept bank),
    with ``s_ij = cos(z_i, z'_j)`` and the concept similarity
    ``g_ij = cos(c_{q(i)}, c_{q(j)})``: positives ``g_ij > pos_thresh`` (in the
    batch term not ``j = i``), negatives ``g_ij < neg_thresh``, and
    ``L_b = mean_{(i,j) pos} ℓ_ij`` (:func:`concept_info_nce`). The loss is the
    mean of the ``B`` in-batch terms and, with a non-empty bank, the ``B``
    bank terms. A term without a positive pair is left out of the mean (the
    reference returns NaN then); without any, the loss is ``0·Σc``. The
    projection is passed as ``(W, b)`` so that the similarities are computed
    at the code's width (:func:`unit_anchor_factors`), never at ``P``. Computed in
    float32 with autocast off (:func:`float32_precision`); the bank stays in its
    dtype and is converted chunk by chunk.

    Args:
        code: ``B×N×D`` student code (gradient flows here and to ``W``, ``b``).
        weight: ``P×D`` student projection weight.
        bias: ``P`` student projection bias.
        proj_ema: ``B×N×P`` EMA-teacher embeddings (constants).
        codes: ``B×N`` codeword index of every patch.
        codebook: ``K×C`` clusterbook.
        bank_keys: ``M×P`` unit EMA embeddings of the concept bank, or ``None``.
        bank_codes: ``M`` concept of every bank row, ``-1`` for an empty slot.
        temperature: ``τ`` (0.07).
        pos_thresh: Positive threshold on ``g`` (0.3).
        neg_thresh: Negative threshold on ``g`` (0.1).
        chunk: Keys per streamed chunk (memory, not result).

    Returns:
        Scalar loss.
    """
    if (bank_keys is None) != (bank_codes is None):
        raise ValueError('bank_keys and bank_codes go together: pass both or neither.')
    b, n, _ = code.shape
    anchors, v = unit_anchor_factors(code.reshape(b * n, -1), weight, bias)
    keys = F.normalize(proj_ema.detach(), dim=-1).reshape(b * n, -1)
    flat_codes = codes.reshape(-1)
    rows = codeword_similarity(codebook).to(code.device)[flat_codes]
    terms = [(keys, flat_codes, True)]
    if bank_keys is not None:
        terms.append((bank_keys, bank_codes, False))
    pairs = [ConceptPairs(rows, key_codes, pos_thresh, neg_thresh, exclude_self)
             for _, key_codes, exclude_self in terms]
    counts = torch.stack([p.num_pos.reshape(b, n).sum(dim=1) for p in pairs])
    valid = counts > 0
    if not bool(valid.any()):
        return code.sum() * 0.0 + weight.sum() * 0.0 + bias.sum() * 0.0
    per_term = torch.where(valid, 1.0 / (counts.clamp_min(1) * valid.sum()), 0.0)
    return sum(concept_info_nce(anchors, v, term_keys, p, w.repeat_interleave(n), temperature,
                                chunk)
               for (term_keys, _, _), p, w in zip(terms, pairs, per_term))


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

    def forward(self, code: Tensor, weight: Tensor, bias: Tensor, proj_ema: Tensor,
                codes: Tensor, codebook: Tensor, bank_keys: Optional[Tensor] = None,
                bank_codes: Optional[Tensor] = None) -> Tensor:
        return self.loss_weight * concept_contrastive_loss(
            code, weight, bias, proj_ema, codes, codebook, bank_keys, bank_codes,
            self.temperature, self.pos_thresh, self.neg_thresh)
