"""PriMaPs-EM's class-level focal loss, the M-step loss of θ_R (PriMaPs, Sec. 3.3)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from mmuss.utils.ignore_index import IGNORE_INDEX


def class_focal_loss(logits: Tensor, labels: Tensor, gamma: float = 2.0,
                     ignore_index: int = IGNORE_INDEX) -> Tensor:
    """Cross-entropy weighted per class by how rarely the class is predicted.

    ``q_k = mean_{b,p} softmax(z)_k`` over all pixels (ignored ones too),
    detached; ``w_k = (1 − q_k)^γ``;
    ``L = (1 / (B·H·W)) Σ_{p : y(p) != ignore} w_{y(p)} · (−log softmax(z(p))_{y(p)})``.

    Args:
        logits: ``B×K×H×W`` logits ``z``.
        labels: ``B×H×W`` pseudo labels in ``[0, K)`` or ``ignore_index``.
        gamma: ``γ``.
        ignore_index: Ignored label.

    Returns:
        Scalar loss.
    """
    num_classes = logits.shape[1]
    weights = (1 - logits.softmax(dim=1).mean(dim=(0, 2, 3)).detach()).pow(gamma)
    valid = labels != ignore_index
    target = torch.where(valid, labels, 0).long()
    nll = F.cross_entropy(logits, target, reduction='none')
    per_pixel = weights[target.clamp(max=num_classes - 1)] * nll * valid
    return per_pixel.sum() / labels.numel()


@MODELS.register_module()
class ClassFocalLoss(nn.Module):
    """:func:`class_focal_loss` as a loss module (γ = 2 in PriMaPs-EM).

    Args:
        gamma: ``γ``.
        ignore_index: Ignored pseudo label (pixels outside every mask).
    """

    def __init__(self, gamma: float = 2.0, ignore_index: int = IGNORE_INDEX) -> None:
        super().__init__()
        self.gamma = gamma
        self.ignore_index = ignore_index

    def forward(self, logits: Tensor, labels: Tensor) -> Tensor:
        return class_focal_loss(logits, labels, self.gamma, self.ignore_index)
