"""STEGO's feature-correspondence distillation loss (docs/methods/stego.md eqs. 3–9)."""
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from ..utils.precision import float32_precision


def sample_points(maps: Tensor, coords: Tensor) -> Tensor:
    """Bilinearly sample maps at continuous coordinates.

    ``out[b, :, i, j] = maps[b, :, y, x]`` at ``(x, y) = coords[b, i, j]`` in
    ``[-1, 1]²`` (``align_corners=True``: ±1 are the centres of the border
    cells; border padding).

    Args:
        maps: ``B×C×h×w`` feature or code maps.
        coords: ``B×S×S×2`` sampling positions, ``(x, y)`` order.

    Returns:
        ``B×C×S×S`` sampled vectors.
    """
    return F.grid_sample(maps, coords.to(maps.dtype), mode='bilinear', padding_mode='border',
                         align_corners=True)


def correlation_tensor(a: Tensor, b: Tensor) -> Tensor:
    """Cosine similarity of every point of ``a`` with every point of ``b``, per image.

    ``K[n, p, q] = <a_p / ||a_p||, b_q / ||b_q||>`` with ``p = (h, w)``,
    ``q = (i, j)``.

    Args:
        a: ``B×C×S×S`` vectors.
        b: ``B×C×S×S`` vectors.

    Returns:
        ``B×S×S×S×S`` correlations (indices ``n, h, w, i, j``).
    """
    return torch.einsum('nchw,ncij->nhwij', F.normalize(a, dim=1), F.normalize(b, dim=1))


def pointwise_centred(feat_corr: Tensor) -> Tensor:
    """STEGO's ``pointwise`` centring of the feature correlation.

    ``F'_{pq} = F_{pq} − mean_{q'} F_{pq'}``, then
    ``F''= F' − mean(F') + mean(F)`` where both global means run over every
    element, the batch axis included (the original global mean is restored).

    Args:
        feat_corr: ``B×S×S×S×S`` feature correlations.

    Returns:
        Tensor of the same shape.
    """
    centred = feat_corr - feat_corr.mean(dim=(3, 4), keepdim=True)
    return centred - centred.mean() + feat_corr.mean()


def correspondence_loss(feat_corr: Tensor, code_corr: Tensor, shift: float,
                        zero_clamp: bool = True, stabilize: bool = False) -> Tensor:
    """One STEGO term: ``L = mean_{n,p,q} −max(Cc_pq, 0)·(F_pq − b)``.

    Args:
        feat_corr: ``B×S×S×S×S`` (centred) backbone correlations ``F`` (no grad).
        code_corr: ``B×S×S×S×S`` code correlations ``Cc`` (with grad).
        shift: The term's shift ``b``.
        zero_clamp: Clamp ``Cc`` at 0 from below (no gradient where negative).
        stabilize: Also cap ``Cc`` at 0.8 (off in every released config).

    Returns:
        Scalar loss.
    """
    low = 0.0 if zero_clamp else None
    high = 0.8 if stabilize else None
    if low is not None or high is not None:
        code_corr = code_corr.clamp(min=low, max=high)
    return -(code_corr * (feat_corr - shift)).mean()


def super_perm(size: int, generator: Optional[torch.Generator] = None,
               device: Optional[torch.device] = None) -> Tensor:
    """STEGO's ``super_perm``: a random permutation whose fixed points are bumped by one.

    ``π = randperm(B); π_i ← (π_i + 1) mod B where π_i = i``. No image is
    paired with itself (for ``B > 1``) but two may be paired with the same one.
    """
    perm = torch.randperm(size, generator=generator)
    perm = torch.where(perm == torch.arange(size), perm + 1, perm) % size
    return perm.to(device) if device is not None else perm


@MODELS.register_module()
class StegoCorrelationLoss(nn.Module):
    """Self, KNN and random-image correspondence terms of STEGO.

    Every step ``feature_samples²`` continuous positions are drawn per image
    (``coords1`` for the batch, ``coords2`` for the KNN partners and the
    negatives). For each pair of point sets the backbone correlation ``F``
    (no grad, optionally pointwise-centred) sets the target and the code
    correlation ``Cc`` is pushed along ``F − b`` (:func:`correspondence_loss`).

    Args:
        weight_self: ``λ_self`` (config key ``pos_intra_weight``).
        weight_knn: ``λ_knn`` (``pos_inter_weight``).
        weight_rand: ``λ_rand`` (``neg_inter_weight``).
        shift_self: ``b_self`` (``pos_intra_shift``).
        shift_knn: ``b_knn`` (``pos_inter_shift``).
        shift_rand: ``b_rand`` (``neg_inter_shift``).
        feature_samples: ``S``, points per image side (11).
        neg_samples: Number of random permutations (5).
        pointwise: Pointwise-centre ``F``.
        zero_clamp: Clamp ``Cc`` at 0.
        stabilize: Cap ``Cc`` at 0.8.
        loss_weight: ``correspondence_weight``.
    """

    def __init__(self,
                 weight_self: float = 0.67,
                 weight_knn: float = 0.25,
                 weight_rand: float = 0.63,
                 shift_self: float = 0.18,
                 shift_knn: float = 0.12,
                 shift_rand: float = 0.46,
                 feature_samples: int = 11,
                 neg_samples: int = 5,
                 pointwise: bool = True,
                 zero_clamp: bool = True,
                 stabilize: bool = False,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if feature_samples < 1 or neg_samples < 0:
            raise ValueError(f'feature_samples must be >= 1 and neg_samples >= 0, got '
                             f'{feature_samples} and {neg_samples}.')
        self.weights = dict(self=weight_self, knn=weight_knn, rand=weight_rand)
        self.shifts = dict(self=shift_self, knn=shift_knn, rand=shift_rand)
        self.feature_samples = feature_samples
        self.neg_samples = neg_samples
        self.pointwise = pointwise
        self.zero_clamp = zero_clamp
        self.stabilize = stabilize
        self.loss_weight = loss_weight

    def term(self, feats_a: Tensor, feats_b: Tensor, code_a: Tensor, code_b: Tensor,
             shift: float) -> Tensor:
        """Loss of one pair of sampled point sets (``B×C×S×S`` each)."""
        with torch.no_grad():
            feat_corr = correlation_tensor(feats_a, feats_b)
            if self.pointwise:
                feat_corr = pointwise_centred(feat_corr)
        code_corr = correlation_tensor(code_a, code_b)
        return correspondence_loss(feat_corr, code_corr, shift, self.zero_clamp, self.stabilize)

    def draw_coords(self, batch: int, device: torch.device) -> Tuple[Tensor, Tensor]:
        """``coords1, coords2``, each ``B×S×S×2`` uniform in ``[-1, 1]``."""
        size = (batch, self.feature_samples, self.feature_samples, 2)
        return (torch.rand(size, device=device) * 2 - 1, torch.rand(size, device=device) * 2 - 1)

    @float32_precision
    def forward(self, feats: Tensor, code: Tensor, feats_pos: Tensor, code_pos: Tensor,
                coords: Optional[Tuple[Tensor, Tensor]] = None,
                perms: Optional[Sequence[Tensor]] = None) -> Dict[str, Tensor]:
        """Weighted self, KNN and random terms.

        Args:
            feats: ``B×C_f×h×w`` (dropped-out) backbone features of the batch.
            code: ``B×D×h×w`` head code of the batch.
            feats_pos: Backbone features of the KNN partners.
            code_pos: Code of the KNN partners.
            coords: Optional fixed ``(coords1, coords2)``; drawn when ``None``.
            perms: Optional fixed negative permutations; drawn when ``None``.

        Returns:
            ``loss_corr_self``, ``loss_corr_knn``, ``loss_corr_rand`` (already
            multiplied by their ``λ`` and ``loss_weight``; their sum is ``L_corr``).
        """
        batch = feats.shape[0]
        coords1, coords2 = coords if coords is not None else self.draw_coords(batch, feats.device)
        if perms is None:
            perms = [super_perm(batch, device=feats.device) for _ in range(self.neg_samples)]
        feats1, code1 = sample_points(feats, coords1), sample_points(code, coords1)
        feats2, code2 = sample_points(feats_pos, coords2), sample_points(code_pos, coords2)
        terms = dict(
            self=self.term(feats1, feats1, code1, code1, self.shifts['self']),
            knn=self.term(feats1, feats2, code1, code2, self.shifts['knn']))
        if len(perms):
            terms['rand'] = torch.stack([
                self.term(feats1, sample_points(feats[perm], coords2), code1,
                          sample_points(code[perm], coords2), self.shifts['rand'])
                for perm in perms
            ]).mean()
        return {f'loss_corr_{name}': self.loss_weight * self.weights[name] * value
                for name, value in terms.items()}
