"""HP's global and local hidden-positive contrastive loss (docs/methods/hp.md eqs. 5–10)."""
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from ..utils.precision import float32_precision


def pool_thresholds(vectors: Tensor, pool: Tensor, chunk_size: int = 4096) -> Tensor:
    """Per-anchor threshold ``R_a = max_k <x_a, pool_k>`` (docs/methods/hp.md eq. 6).

    Args:
        vectors: ``N×C`` unit vectors of the batch.
        pool: ``P×C`` unit reference vectors.
        chunk_size: Rows per matmul (memory ``chunk × P``).

    Returns:
        ``N`` thresholds.
    """
    return torch.cat([(vectors[i:i + chunk_size] @ pool.T).max(dim=1).values
                      for i in range(0, vectors.shape[0], chunk_size)])


def hidden_positive_mask(sim: Tensor, thr_rows: Tensor, thr_cols: Tensor,
                         row_index: Tensor) -> Tensor:
    """Symmetrised positive relation ``P_aj = [sim_aj > R_a or sim_aj > R_j], j ≠ a``.

    Args:
        sim: ``M×N`` similarities of ``M`` anchors with all ``N`` patches.
        thr_rows: ``M`` thresholds of the anchors.
        thr_cols: ``N`` thresholds of all patches.
        row_index: ``M`` column index of each anchor itself (excluded).

    Returns:
        ``M×N`` bool mask.
    """
    mask = (sim > thr_rows[:, None]) | (sim > thr_cols[None, :])
    mask[torch.arange(sim.shape[0], device=sim.device), row_index] = False
    return mask


def weighted_log_likelihood(logits: Tensor, weights: Tensor, denominator: Tensor) -> Tensor:
    """``g_a = Σ_j W_aj ℓ_aj / Σ_j W_aj`` with ``ℓ_aj = s_aj − log Σ_{k∈D_a} exp(s_ak)``.

    Args:
        logits: ``M×N`` scaled similarities ``s_aj = <z_a, z_j>/τ``.
        weights: ``M×N`` positive weights ``W`` (``A + λT``).
        denominator: ``M×N`` bool mask of the softmax normaliser ``D_a``;
            rows must not be empty.

    Returns:
        ``M`` values ``g_a`` (0 where ``Σ_j W_aj = 0``).
    """
    log_norm = logits.masked_fill(~denominator, float('-inf')).logsumexp(dim=1, keepdim=True)
    wsum = weights.sum(dim=1)
    return ((logits - log_norm) * weights).sum(dim=1) / wsum.clamp_min(1e-12)


def anchor_reweighting(weight_sums: Tensor, valid: Tensor, image_index: Tensor,
                       num_images: int) -> Tensor:
    """``ω_a = Σ_j W_aj / mean_{a'∈V, image(a')=image(a)} Σ_j W_a'j`` (no grad).

    Args:
        weight_sums: ``N`` row sums of ``W``.
        valid: ``N`` bool, anchors with a task-agnostic positive.
        image_index: ``N`` image of each anchor.
        num_images: ``B``.

    Returns:
        ``N`` weights with mean 1 over the valid anchors of every image (0 for
        invalid anchors).
    """
    sums = weight_sums.new_zeros(num_images).index_add_(0, image_index, weight_sums * valid)
    counts = weight_sums.new_zeros(num_images).index_add_(0, image_index, valid.to(sums))
    means = sums / counts.clamp_min(1)
    return torch.where(valid, weight_sums / means[image_index].clamp_min(1e-12),
                       torch.zeros_like(weight_sums))


def per_image_contrastive_loss(anchor_values: Tensor, omega: Tensor, valid: Tensor,
                               image_index: Tensor, num_images: int,
                               temperature: float, base_temperature: float) -> Tensor:
    """``L(b) = −(τ/τ₀)·mean_{a∈V∩image b} ω_a g_a`` (0 for an image without valid anchors).

    Args:
        anchor_values: ``N`` values ``g_a``.
        omega: ``N`` anchor weights ``ω_a``.
        valid: ``N`` bool valid anchors ``V``.
        image_index: ``N`` image of each anchor.
        num_images: ``B``.
        temperature: ``τ``.
        base_temperature: ``τ₀``.

    Returns:
        ``B`` per-image losses.
    """
    terms = torch.where(valid, omega * anchor_values, torch.zeros_like(anchor_values))
    sums = terms.new_zeros(num_images).index_add(0, image_index, terms)
    counts = terms.new_zeros(num_images).index_add_(0, image_index, valid.to(terms))
    return -(temperature / base_temperature) * sums / counts.clamp_min(1)


def hidden_positive_anchors(z_rows: Tensor, z_all: Tensor, m_rows: Tensor, m_all: Tensor,
                            f_rows: Tensor, f_all: Tensor, s_rows: Tensor, s_all: Tensor,
                            r_ag_rows: Tensor, r_ag: Tensor, r_sp_rows: Tensor, r_sp: Tensor,
                            random_negatives: Tensor, row_index: Tensor, lam: float,
                            temperature: float) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """GHP and LHP terms of ``M`` anchors against all ``N`` patches (docs/methods/hp.md eqs. 7–9).

    Positives: task-agnostic ``A`` from ``f`` and ``R^ag``, task-specific
    ``T`` from ``s`` and ``R^sp`` (:func:`hidden_positive_mask`); weights
    ``W = A + λT``; normaliser ``D = (A ∪ U) \\ {a}``. ``g`` contrasts ``z``
    with ``z``, ``g_loc`` contrasts ``m`` with ``m``.

    Args:
        z_rows, z_all: ``M×D`` / ``N×D`` unit projections of the code.
        m_rows, m_all: ``M×D`` / ``N×D`` unit projections of the local aggregate.
        f_rows, f_all: ``M×C_f`` / ``N×C_f`` unit backbone features.
        s_rows, s_all: ``M×D`` / ``N×D`` unit EMA codes.
        r_ag_rows, r_ag: Task-agnostic thresholds (``M`` / ``N``).
        r_sp_rows, r_sp: Task-specific thresholds (``M`` / ``N``).
        random_negatives: ``n×N`` bool random negatives ``U``; anchor ``a``
            uses row ``a mod n`` (its position in its image).
        row_index: ``M`` column index of each anchor.
        lam: ``λ``.
        temperature: ``τ``.

    Returns:
        ``g`` (``M``), ``g_loc`` (``M``), ``Σ_j W_aj`` (``M``) and validity
        ``Σ_j A_aj > 0`` (``M`` bool).
    """
    with torch.no_grad():
        agnostic = hidden_positive_mask(f_rows @ f_all.T, r_ag_rows, r_ag, row_index)
        specific = hidden_positive_mask(s_rows @ s_all.T, r_sp_rows, r_sp, row_index)
        weights = agnostic.to(z_rows.dtype) + lam * specific.to(z_rows.dtype)
        valid = agnostic.any(dim=1)
        denominator = agnostic | random_negatives[row_index % random_negatives.shape[0]]
        denominator[torch.arange(len(row_index), device=row_index.device), row_index] = False
        denominator |= ~valid[:, None]
    g = weighted_log_likelihood(z_rows @ z_all.T / temperature, weights, denominator)
    g_loc = weighted_log_likelihood(m_rows @ m_all.T / temperature, weights, denominator)
    return g, g_loc, weights.sum(dim=1), valid


@MODELS.register_module()
class HiddenPositiveLoss(nn.Module):
    """``L_HP = 1/(2B) Σ_b [L_GHP(b) + L_LHP(b)]`` with reference-pool thresholds.

    All ``N = B·n`` patches of the batch are candidates for every anchor. The
    ``N×N`` comparisons run ``chunk_size`` anchors at a time; with
    ``checkpoint_chunks`` each chunk is recomputed in backward, so peak memory
    is ``O(chunk_size × N)`` instead of ``O(N²)``. ``chunk_size=None``
    computes everything at once.

    Args:
        temperature: ``τ``.
        base_temperature: ``τ₀`` (0.07).
        neg_ratio: ``ρ``, fraction of random extra negatives.
        chunk_size: Anchors per chunk (``None``: all).
        checkpoint_chunks: Recompute chunks in backward (when they require grad).
        loss_weight: Multiplier of the loss.
    """

    def __init__(self, temperature: float = 0.8, base_temperature: float = 0.07,
                 neg_ratio: float = 0.02, chunk_size: Optional[int] = 784,
                 checkpoint_chunks: bool = True, loss_weight: float = 1.0) -> None:
        super().__init__()
        if not 0.0 <= neg_ratio <= 1.0:
            raise ValueError(f'neg_ratio must be in [0, 1], got {neg_ratio}.')
        self.temperature = temperature
        self.base_temperature = base_temperature
        self.neg_ratio = neg_ratio
        self.chunk_size = chunk_size
        self.checkpoint_chunks = checkpoint_chunks
        self.loss_weight = loss_weight

    def draw_random_negatives(self, patches_per_image: int, num_patches: int,
                              device: torch.device) -> Tensor:
        """``U``: ``n×N`` Bernoulli(ρ) mask, shared by every image (row = anchor position)."""
        return (torch.rand(patches_per_image, num_patches) < self.neg_ratio).to(device)

    @float32_precision
    def forward(self, feats: Tensor, ema_code: Tensor, proj: Tensor, proj_local: Tensor,
                pool_agnostic: Tensor, pool_specific: Tensor, lam: float,
                patches_per_image: int,
                random_negatives: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """HP loss of one batch.

        Args:
            feats: ``N×C_f`` dropped-out backbone features ``F̃`` (detached here).
            ema_code: ``N×D`` EMA-head code (detached here).
            proj: ``N×D`` ``project_head(code)`` (with grad).
            proj_local: ``N×D`` ``project_head(code_loc)`` (with grad).
            pool_agnostic: ``P×C_f`` unit backbone reference pool.
            pool_specific: ``P×D`` unit EMA-head reference pool.
            lam: ``λ``.
            patches_per_image: ``n``; rows are ordered image-major.
            random_negatives: Optional fixed ``n×N`` mask ``U``.

        Returns:
            ``loss_hp`` and the diagnostics ``hp_valid_ratio`` (no grad).
        """
        num = feats.shape[0]
        if num % patches_per_image:
            raise ValueError(f'{num} patches are not a whole number of images of '
                             f'{patches_per_image} patches.')
        num_images = num // patches_per_image
        f = F.normalize(feats.detach(), dim=1)
        s = F.normalize(ema_code.detach(), dim=1)
        z = F.normalize(proj, dim=1)
        m = F.normalize(proj_local, dim=1)
        r_ag = pool_thresholds(f, pool_agnostic.to(f))
        r_sp = pool_thresholds(s, pool_specific.to(s))
        if random_negatives is None:
            random_negatives = self.draw_random_negatives(patches_per_image, num, f.device)
        if tuple(random_negatives.shape) != (patches_per_image, num):
            raise ValueError(f'random_negatives must be {patches_per_image}×{num}, got '
                             f'{tuple(random_negatives.shape)}.')
        chunk = self.chunk_size or num
        use_ckpt = self.checkpoint_chunks and chunk < num and torch.is_grad_enabled() and (
            z.requires_grad or m.requires_grad)
        outputs = []
        for start in range(0, num, chunk):
            rows = torch.arange(start, min(start + chunk, num), device=f.device)
            args = (z[rows], z, m[rows], m, f[rows], f, s[rows], s, r_ag[rows], r_ag,
                    r_sp[rows], r_sp, random_negatives, rows,
                    float(lam), self.temperature)
            outputs.append(checkpoint(hidden_positive_anchors, *args, use_reentrant=False)
                           if use_ckpt else hidden_positive_anchors(*args))
        g, g_loc, wsum, valid = (torch.cat(x) for x in zip(*outputs, strict=True))
        image_index = torch.arange(num, device=f.device) // patches_per_image
        omega = anchor_reweighting(wsum, valid, image_index, num_images)
        ghp = per_image_contrastive_loss(g, omega, valid, image_index, num_images,
                                         self.temperature, self.base_temperature)
        lhp = per_image_contrastive_loss(g_loc, omega, valid, image_index, num_images,
                                         self.temperature, self.base_temperature)
        loss = (ghp + lhp).sum() / (2 * num_images)
        return dict(loss_hp=self.loss_weight * loss,
                    hp_valid_ratio=valid.float().mean().detach())
