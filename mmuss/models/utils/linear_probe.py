"""Supervised linear probe on detached features (the tables' "linear" column)."""
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmuss.utils.ignore_index import IGNORE_INDEX


def linear_probe_loss(logits: Tensor, labels: Tensor, ignore_index: int = IGNORE_INDEX) -> Tensor:
    """Pixel-mean cross-entropy of upsampled probe logits (docs/methods/baseline.md eq. 5).

    ``logits`` are bilinearly upsampled (``align_corners=False``) to the label
    size; pixels labelled ``ignore_index`` do not count.

    Args:
        logits: ``B×C×h×w`` probe logits.
        labels: ``B×H×W`` integer labels in ``[0, C)`` or ``ignore_index``.
        ignore_index: The ignore label.

    Returns:
        Scalar loss (0 when no pixel is labelled).
    """
    num_classes = logits.shape[1]
    valid = labels != ignore_index
    bad = valid & ((labels < 0) | (labels >= num_classes))
    if bad.any():
        raise ValueError(f'Label value {int(labels[bad][0])} is outside [0, {num_classes}) and '
                         f'is not the ignore index {ignore_index}.')
    if logits.shape[-2:] != labels.shape[-2:]:
        logits = F.interpolate(logits, size=labels.shape[-2:], mode='bilinear',
                               align_corners=False)
    if not valid.any():
        return logits.sum() * 0
    return F.cross_entropy(logits, labels.long(), ignore_index=ignore_index)


class LinearProbe(nn.Module):
    """1×1 convolution trained with labels on ``feats.detach()``.

    It reports how linearly separable the probed features are; it never sends
    gradient into them.

    Args:
        in_channels: Feature width ``D``.
        num_classes: Number of ground-truth classes ``C``.
    """

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, num_classes, kernel_size=1)

    def forward(self, feats: Tensor) -> Tensor:
        """``B×D×h×w`` features → ``B×C×h×w`` logits."""
        return self.conv(feats.detach())

    def loss(self, feats: Tensor, labels: Tensor, ignore_index: int = IGNORE_INDEX) -> Tensor:
        return linear_probe_loss(self(feats), labels, ignore_index)
