"""Supervised linear probe on detached features (the tables' "linear" column)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmuss.utils.ignore_index import IGNORE_INDEX

from .precision import float32_precision


class _UpsampledCrossEntropy(torch.autograd.Function):
    """Summed cross-entropy of bilinearly upsampled logits, one image at a time.

    The gradient with respect to the low-resolution logits is formed in the
    forward pass, image by image, so only one image's ``C×H×W`` upsampled
    logits and their log-softmax exist at a time (instead of the batch's,
    kept for backward); the values are those of the batched computation.
    """

    @staticmethod
    def forward(ctx, logits: Tensor, labels: Tensor, ignore_index: int) -> Tensor:
        total = logits.new_zeros((), dtype=torch.float)
        grads = []
        for image, label in zip(logits.detach(), labels.long()):
            with torch.enable_grad():
                image = image[None].requires_grad_(ctx.needs_input_grad[0])
                up = F.interpolate(image, size=labels.shape[-2:], mode='bilinear',
                                   align_corners=False)
                loss = F.cross_entropy(up, label[None], ignore_index=ignore_index,
                                       reduction='sum')
                if ctx.needs_input_grad[0]:
                    grads.append(torch.autograd.grad(loss, image)[0])
            total += loss.detach().float()
        if grads:
            ctx.save_for_backward(torch.cat(grads))
        return total

    @staticmethod
    def backward(ctx, grad_total: Tensor) -> tuple:
        grad, = ctx.saved_tensors
        return grad * grad_total, None, None


@float32_precision
def linear_probe_loss(logits: Tensor, labels: Tensor, ignore_index: int = IGNORE_INDEX) -> Tensor:
    """Pixel-mean cross-entropy of upsampled probe logits (docs/methods/baseline.md eq. 5).

    ``logits`` are bilinearly upsampled (``align_corners=False``) to the label
    size; pixels labelled ``ignore_index`` do not count. Computed image by
    image (:class:`_UpsampledCrossEntropy`): the full-resolution logits of
    the batch are never held at once.

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
    if not valid.any():
        return logits.sum() * 0
    return _UpsampledCrossEntropy.apply(logits, labels, ignore_index) / valid.sum()


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
