"""HP's consistency term between a patch and its photometric copy (docs/methods/hp.md eq. 13)."""
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from ..utils.precision import float32_precision


def patch_consistency(proj: Tensor, proj_aug: Tensor, eps: float = 1e-6) -> Tensor:
    """``L_cons = mean_a ||z_a − z'_a + ε||₂`` on unit vectors (not squared).

    Args:
        proj: ``N×D`` projections of the clean patches.
        proj_aug: ``N×D`` projections of the same patches in the augmented view.
        eps: ``nn.PairwiseDistance``'s ``ε``.

    Returns:
        Scalar loss.
    """
    return (F.normalize(proj, dim=1) - F.normalize(proj_aug, dim=1) + eps).norm(dim=1).mean()


@MODELS.register_module()
class PatchConsistencyLoss(nn.Module):
    """``α·L_cons`` (:func:`patch_consistency`); α = 0.05 for COCO and Cityscapes.

    Args:
        loss_weight: ``α``.
    """

    def __init__(self, loss_weight: float = 0.05) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    @float32_precision
    def forward(self, proj: Tensor, proj_aug: Tensor) -> Tensor:
        return self.loss_weight * patch_consistency(proj, proj_aug)
