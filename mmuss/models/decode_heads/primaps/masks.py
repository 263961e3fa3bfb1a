"""PriMaPs: principal mask proposals from frozen features, batched.

Equations: docs/methods/primaps_em.md eqs. 1–7.

Each image's ``D×h×w`` feature map is decomposed into disjoint class-agnostic
masks at feature resolution. One iteration, per image, on the pixels not yet
assigned ("available"):

1. ``u`` = first principal direction of the raw, centred available features;
2. anchor ``a`` = the L2-normalised feature of the first available pixel (raster
   order) maximising ``<u, f̂(p)>`` (nearest-neighbour anchoring);
3. ``c(p) = <a, f̂(p)>`` on available pixels, zeroed below ``τ·max c``, divided
   by ``max c``; the pixels with ``c > 0`` form the mask and leave the pool.

The loop stops at ``coverage`` (95 %) assigned pixels, or when an iteration
assigns nothing (stagnation). The masks are then median-filtered, binarised by
the gain and turned into ``1 + N`` log-probabilities (background first) whose
argmax (after an optional CRF) is the mask-id map: 255 for background, ``i``
for the ``i``-th extracted mask.

Deviations from the reference, all deterministic:

- **Sign rule.** A principal direction has no sign (the reference keeps
  whatever its randomised SVD returns). We orient ``u`` towards the available
  pixel it is most aligned or anti-aligned with (``max |<u, f̂(p)>|``, see
  :func:`oriented_scores`), so the anchor always has a positive cosine. With
  the reference's random sign, half of the iterations on a nearly pure
  remainder (e.g. the last segment) find every available cosine negative and
  anchor on an already assigned pixel.
- **PCA.** The direction is the top eigenvector of the centred covariance,
  found by restarted block-Krylov Rayleigh–Ritz until its relative residual
  is below ``tol`` (the converged answer the reference's
  ``pca_lowrank(q=3, niter=100)`` approximates). Zero variance (e.g. constant
  features) has no principal direction: the iteration assigns nothing.
- **Stagnation.** The anchor is searched among available pixels only, and an
  iteration whose anchor has a non-positive cosine with ``u`` (all cosines
  zero, e.g. zero variance or zero features) assigns nothing, instead of
  dividing by a zero maximum (NaN masks, docs/methods/primaps_em.md Q8). A step is a
  deterministic function of the available set, so such an iteration would
  repeat forever; the reference's rule (available set unchanged over the last
  three iterations) would end the loop a few iterations later without adding
  a mask, so we stop at once: same masks.
- **Background** with no mask at all is 1 everywhere (the reference's mean over
  an empty set is NaN).
"""
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from mmuss.utils.ignore_index import IGNORE_INDEX

MAX_MASKS = 254
PAD_LOGIT = -1e4


@dataclass
class PrincipalMasks:
    """Soft masks of a batch, in extraction order.

    Attributes:
        masks: ``B×M×h×w`` soft masks (``M`` = most masks of any image; an
            image's channels beyond its ``num_masks`` are zero).
        num_masks: ``(B,)`` masks per image.
        stagnated: ``(B,)`` whether the loop ended by stagnation rather than
            by coverage.
    """

    masks: Tensor
    num_masks: Tensor
    stagnated: Tensor


def centred_covariance(rows: Tensor, valid: Tensor) -> Tuple[Tensor, Tensor]:
    """Centred scatter matrix and second moment of each image's valid rows.

    ``μ_b = mean_{p valid} x_p``, ``C_b = Σ_{p valid} (x_p − μ_b)(x_p − μ_b)ᵀ``,
    ``E_b = Σ_{p valid} ||x_p||² = tr C_b + n_b ||μ_b||²``.

    Args:
        rows: ``B×n×D`` features; invalid rows must be zero.
        valid: ``B×n`` bool.

    Returns:
        ``C`` as ``B×D×D`` float64 and ``E`` as ``(B,)`` float64.
    """
    count = valid.sum(1, keepdim=True).clamp_min(1)
    mean = rows.sum(1) / count
    centred = rows - mean[:, None]
    if not bool(valid.all()):
        centred *= valid[..., None]
    cov = torch.bmm(centred.transpose(1, 2), centred).double()
    energy = cov.diagonal(dim1=1, dim2=2).sum(1) + count[:, 0] * mean.double().square().sum(1)
    return cov, energy


def leading_eigenvector(cov: Tensor, block: int = 4, krylov: int = 4, max_cycles: int = 30,
                        tol: float = 1e-6) -> Tuple[Tensor, Tensor]:
    """Top eigenpair ``C u = λ u`` of symmetric PSD matrices (restarted block Krylov).

    Each cycle builds the Krylov basis ``Q = orth[V, CV, …, C^k V]`` (``V``:
    ``block`` columns, first ``orth(C G)`` with ``G`` a fixed seeded Gaussian,
    then the top Ritz vectors of the previous cycle) and takes the
    Rayleigh–Ritz pair of ``QᵀCQ``; a matrix is done once
    ``||C u − λ u|| <= tol·λ`` (or after ``max_cycles``).

    Args:
        cov: ``B×D×D`` symmetric positive semi-definite matrices.
        block: Block size of the Krylov basis.
        krylov: Powers of ``C`` per cycle.
        max_cycles: Cycle cap.
        tol: Relative residual tolerance.

    Returns:
        ``u`` as ``B×D`` unit vectors (unoriented) and ``λ`` as ``(B,)``.
    """
    dims = cov.shape[-1]
    block = min(block, dims)
    gen = torch.Generator().manual_seed(0)
    start = torch.randn(dims, block, generator=gen, dtype=cov.dtype).to(cov.device)
    basis = torch.linalg.qr(cov @ start).Q
    vec_out = cov.new_zeros(cov.shape[:2])
    lam_out = cov.new_zeros(cov.shape[0])
    todo = torch.arange(cov.shape[0], device=cov.device)
    for cycle in range(max_cycles):
        powers = [basis]
        for _ in range(max(krylov, 1)):
            step = torch.bmm(cov, powers[-1])
            powers.append(step / step.norm(dim=1, keepdim=True).clamp_min(1e-300))
        space = torch.linalg.qr(torch.cat(powers, dim=2)).Q
        image = torch.bmm(cov, space)
        vals, vecs = torch.linalg.eigh(space.transpose(1, 2) @ image)
        top, lam = vecs[..., -1:], vals[..., -1]
        vec = (space @ top)[..., 0]
        resid = ((image @ top)[..., 0] - lam[:, None] * vec).norm(dim=1)
        done = (resid <= tol * lam.abs()) | (cycle == max_cycles - 1)
        vec_out[todo[done]], lam_out[todo[done]] = vec[done], lam[done]
        if bool(done.all()):
            break
        basis = space[~done] @ vecs[~done][..., -block:]
        todo, cov = todo[~done], cov[~done]
    return vec_out, lam_out


def principal_direction(rows: Tensor, valid: Tensor, block: int = 4, krylov: int = 4,
                        max_cycles: int = 30, tol: float = 1e-6) -> Tensor:
    """Unoriented first principal direction of each image's valid rows (step 2a).

    Args:
        rows: ``B×n×D`` raw features; invalid rows must be zero.
        valid: ``B×n`` bool.
        block, krylov, max_cycles, tol: See :func:`leading_eigenvector`.

    Returns:
        ``B×D`` unit directions; all-zero where the rows have no variance
        (``λ <= 1e-10·Σ||x_p||²``).
    """
    cov, energy = centred_covariance(rows, valid)
    vec, lam = leading_eigenvector(cov, block, krylov, max_cycles, tol)
    return torch.where((lam <= 1e-10 * energy)[:, None], 0.0, vec).to(rows.dtype)


def oriented_scores(normed: Tensor, valid: Tensor, direction: Tensor) -> Tensor:
    """Cosines with the principal direction under the documented sign rule (step 2b).

    ``c₀(p) = s·<u, f̂(p)>`` with ``s = sign(max_p <u, f̂(p)> + min_p <u, f̂(p)>)``
    over valid ``p``: ``u`` points at the available pixel it is most (anti-)
    aligned with, so the anchor always lies on the positive side. On a tie
    ``s`` is the sign of the entry of ``u`` with the largest magnitude.

    Args:
        normed: ``B×n×D`` L2-normalised features.
        valid: ``B×n`` bool.
        direction: ``B×D`` unoriented principal directions.

    Returns:
        ``B×n`` oriented cosines, ``-inf`` where invalid.
    """
    score = torch.bmm(normed, direction[..., None])[..., 0]
    top = score.masked_fill(~valid, -float('inf')).max(1).values
    bottom = score.masked_fill(~valid, float('inf')).min(1).values
    peak = direction.gather(1, direction.abs().argmax(1, keepdim=True))[:, 0]
    sign = torch.where(top + bottom != 0, (top + bottom).sign(), peak.sign())
    sign = torch.where(sign == 0, 1.0, sign)
    return (score * sign[:, None]).masked_fill(~valid, -float('inf'))


def anchored_mask(normed: Tensor, valid: Tensor, score: Tensor, threshold: float) -> Tensor:
    """One soft mask per image by nearest-neighbour anchoring (steps 2c–2e).

    ``p* = first argmax_p c₀(p)``, ``a = f̂(p*)``, ``c(p) = <a, f̂(p)>`` on valid
    pixels, ``c ← 0`` where ``c < τ·max c``, ``c ← c / max c``. The mask is
    empty when ``c₀(p*) <= 0`` or ``a = 0``.

    Args:
        normed: ``B×n×D`` L2-normalised features, raster order.
        valid: ``B×n`` bool.
        score: ``B×n`` oriented cosines (:func:`oriented_scores`).
        threshold: ``τ``.

    Returns:
        ``B×n`` soft masks with values in ``{0} ∪ [τ, 1]``.
    """
    best = score.argmax(1)
    anchor = normed[torch.arange(len(normed), device=normed.device), best]
    sim = torch.bmm(normed, anchor[..., None])[..., 0] * valid
    peak = sim.max(1, keepdim=True).values
    usable = (score.gather(1, best[:, None]) > 0) & (peak > 0)
    sim = torch.where(sim < threshold * peak, 0.0, sim) / torch.where(usable, peak, 1.0)
    return sim * usable


def available_rows(avail: Tensor) -> Tuple[Tensor, Tensor]:
    """Raster-ordered positions of each image's available pixels, padded.

    Args:
        avail: ``B×N`` bool.

    Returns:
        ``B×n`` long positions (``n`` = most available pixels of any image;
        padding positions are distinct unavailable pixels) and ``B×n`` bool
        validity.
    """
    count = int(avail.sum(1).max())
    order = torch.argsort((~avail).to(torch.uint8), dim=1, stable=True)[:, :count]
    return order, avail.gather(1, order)


def extract_principal_masks(feats: Tensor, threshold: float = 0.4, coverage: float = 0.95,
                            block: int = 4, krylov: int = 4, max_cycles: int = 30,
                            tol: float = 1e-6, max_masks: Optional[int] = None
                            ) -> PrincipalMasks:
    """PriMaPs' mask extraction loop (docs/methods/primaps_em.md eqs. 1–4) over a batch.

    Args:
        feats: ``B×D×h×w`` raw feature maps.
        threshold: Cosine threshold ``τ`` (0.4).
        coverage: Stop once this fraction of pixels is assigned (0.95).
        block, krylov, max_cycles, tol: PCA solver settings
            (:func:`leading_eigenvector`).
        max_masks: Stop an image's loop once it has more masks than this (the
            reference has no cap; mask-id maps fail beyond 254 anyway, so
            :func:`primaps_mask_ids` stops at 255 instead of running on).

    Returns:
        The soft masks at feature resolution, see :class:`PrincipalMasks`.
    """
    batch, dims, height, width = feats.shape
    num_pixels = height * width
    rows_all = feats.flatten(2).transpose(1, 2).contiguous()
    normed_all = F.normalize(rows_all, dim=2)
    avail = torch.ones(batch, num_pixels, dtype=torch.bool, device=feats.device)
    active = torch.full((batch, ), coverage > 0, dtype=torch.bool, device=feats.device)
    stagnated = torch.zeros_like(active)
    num_masks = torch.zeros(batch, dtype=torch.long, device=feats.device)
    steps = []
    while bool(active.any()):
        todo = active.nonzero()[:, 0]  # only images still extracting do any work
        if bool(avail.all()):
            pos = torch.arange(num_pixels, device=feats.device).expand(batch, -1)
            valid, rows, normed = avail, rows_all, normed_all
        else:
            pos, valid = available_rows(avail[todo])
            rows = rows_all[todo[:, None], pos] * valid[..., None]
            normed = normed_all[todo[:, None], pos]
        direction = principal_direction(rows, valid, block, krylov, max_cycles, tol)
        soft = anchored_mask(normed, valid, oriented_scores(normed, valid, direction), threshold)
        full = torch.zeros_like(rows_all[..., 0])
        full[todo] = full[todo].scatter_(1, pos, soft)
        progress = active & (full > 0).any(1)
        steps.append((full, progress, num_masks.clone()))
        num_masks += progress.long()
        avail &= ~((full > 0) & progress[:, None])
        stagnated |= active & ~progress
        assigned = (~avail).sum(1).double() / num_pixels
        active = progress & (assigned < coverage)
        if max_masks is not None:
            active &= num_masks <= max_masks
    masks = feats.new_zeros(batch, int(num_masks.max()) if batch else 0, num_pixels)
    for full, progress, slot in steps:
        rows_b = progress.nonzero()[:, 0]
        masks[rows_b, slot[rows_b]] = full[rows_b]
    return PrincipalMasks(masks.reshape(batch, -1, height, width), num_masks, stagnated)


def median_filter3x3(maps: Tensor) -> Tensor:
    """3×3 median (stride 1, reflect padding 1) of every channel (step 3).

    Args:
        maps: ``B×M×h×w`` with ``h, w >= 2``.

    Returns:
        ``B×M×h×w`` medians.
    """
    if maps.shape[1] == 0:
        return maps
    padded = F.pad(maps, (1, 1, 1, 1), mode='reflect')
    patches = padded.unfold(2, 3, 1).unfold(3, 3, 1)
    return patches.reshape(*maps.shape, 9).median(dim=-1).values


def proposal_log_probs(masks: Tensor, num_masks: Tensor, gain: float = 10.0) -> Tensor:
    """CRF unary of the proposals: background plus masks, log-softmaxed (steps 3–5).

    ``M_i = clamp(gain·median3×3(S_i), 0, 1)``,
    ``bg = clamp(mean_{M>0} M − Σ_i M_i, 0, 1)`` (1 when no mask),
    ``log softmax([bg, M_1, …, M_N])`` over channels. An image's channels
    beyond its ``num_masks`` get logit ``-1e4`` (probability 0), so each
    image's softmax is over its own ``1 + N`` channels.

    Args:
        masks: ``B×M×h×w`` soft masks.
        num_masks: ``(B,)`` masks per image.
        gain: The binarising gain (10).

    Returns:
        ``B×(1+M)×h×w`` log-probabilities.
    """
    binary = (gain * median_filter3x3(masks)).clamp(0, 1)
    nonzero = (binary > 0).sum((1, 2, 3))
    level = torch.where(nonzero > 0, binary.sum((1, 2, 3)) / nonzero.clamp_min(1), 1.0)
    background = (level[:, None, None] - binary.sum(1)).clamp(0, 1)
    logits = torch.cat([background[:, None], binary], dim=1)
    channel = torch.arange(logits.shape[1], device=masks.device)
    padding = channel[None] > num_masks[:, None]
    logits = logits.masked_fill(padding[..., None, None], PAD_LOGIT)
    return logits.log_softmax(dim=1)


def mask_ids_from_scores(scores: Tensor) -> Tensor:
    """Mask-id maps from per-channel scores (step 7).

    ``id(p) = argmax_i score_i(p)`` (first on ties), background (channel 0)
    → 255, channel ``i`` → ``i``.

    Args:
        scores: ``B×(1+M)×H×W`` log-probabilities or CRF marginals.

    Returns:
        ``B×H×W`` uint8 mask ids.

    Raises:
        ValueError: if ``M > 254`` (ids 1…254 and 255 for background fit uint8).
    """
    num = scores.shape[1] - 1
    if num > MAX_MASKS:
        raise ValueError(f'A proposal map with {num} masks cannot be stored: mask ids are '
                         f'uint8 with 255 for background, so at most {MAX_MASKS} masks fit.')
    best = scores.argmax(dim=1)
    return torch.where(best == 0, IGNORE_INDEX, best).to(torch.uint8)


def check_mask_counts(num_masks: Tensor, names: Optional[Sequence[str]] = None) -> None:
    """Fail, naming the image, when a map has more masks than uint8 ids can hold (254)."""
    over = (num_masks > MAX_MASKS).nonzero()[:, 0].tolist()
    if over:
        i = over[0]
        name = names[i] if names is not None else f'image {i} of the batch'
        raise ValueError(f'PriMaPs found {int(num_masks[i])} masks in {name}; mask-id maps hold '
                         f'at most {MAX_MASKS} (uint8, 255 = no mask). Raise the threshold.')


def primaps_mask_ids(feats: Tensor, size: Optional[Tuple[int, int]] = None,
                     images: Optional[Tensor] = None, crf: Optional[dict] = None,
                     threshold: float = 0.4, coverage: float = 0.95, gain: float = 10.0,
                     names: Optional[Sequence[str]] = None, **pca) -> Tensor:
    """Proposal pipeline: masks → unary → (CRF) → mask ids (docs/methods/primaps_em.md eqs. 1–7).

    Args:
        feats: ``B×D×h×w`` raw feature maps.
        size: Output ``(H, W)``; defaults to the images' size, else ``(h, w)``.
        images: ``B×3×H×W`` uint8 RGB images, needed for the CRF.
        crf: ``None`` (no CRF: the log-probabilities are bilinearly resized and
            argmaxed) or keyword options of
            :func:`mmuss.models.utils.dense_crf.batched_dense_crf`.
        threshold, coverage, gain: See :func:`extract_principal_masks` and
            :func:`proposal_log_probs`.
        names: Image names for error messages.
        **pca: ``block``, ``krylov``, ``max_cycles``, ``tol`` of the PCA solver.

    Returns:
        ``B×H×W`` uint8 mask ids (255 = no mask).
    """
    found = extract_principal_masks(feats.float(), threshold, coverage, max_masks=MAX_MASKS,
                                    **pca)
    check_mask_counts(found.num_masks, names)
    log_probs = proposal_log_probs(found.masks, found.num_masks, gain)
    if size is None:
        size = tuple(images.shape[-2:]) if images is not None else tuple(feats.shape[-2:])
    if crf is not None:
        if images is None:
            raise ValueError('PriMaPs with a CRF needs the uint8 images.')
        from ...utils.dense_crf import batched_dense_crf
        scores = batched_dense_crf(images, log_probs, **crf)
        if tuple(scores.shape[-2:]) != tuple(size):
            scores = F.interpolate(scores, size=size, mode='bilinear', align_corners=False)
    elif tuple(size) != tuple(log_probs.shape[-2:]):
        scores = F.interpolate(log_probs, size=size, mode='bilinear', align_corners=False)
    else:
        scores = log_probs
    return mask_ids_from_scores(scores)
