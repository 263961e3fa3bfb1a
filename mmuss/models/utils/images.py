"""The one place mmuss converts raw images ↔ network inputs, and looks up a sample's views."""
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.structures import PixelData
from mmseg.utils import SampleList
from torch import Tensor

Stats = Union[Tensor, Sequence[float]]


IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


class PixelNormaliser:
    """Raw images (pipeline channel order, 0–255) ↔ network inputs, as ``SegDataPreProcessor``.

    ``normalise``: optional BGR→RGB, then ``(x − mean) / std``; ``unnormalise``
    inverts the statistics and rounds to uint8 (network channel order). The one
    place mmuss converts pixels; views, proposals, the CRF and the tools use it.

    Args:
        mean: Per-channel mean (0–255, network channel order), or ``None`` for no scaling.
        std: Per-channel std, ``None`` exactly when ``mean`` is.
        bgr_to_rgb: Whether raw images are BGR and the network takes RGB.
    """

    def __init__(self, mean: Optional[Stats] = IMAGENET_MEAN, std: Optional[Stats] = IMAGENET_STD,
                 bgr_to_rgb: bool = False) -> None:
        if (mean is None) != (std is None):
            raise ValueError('PixelNormaliser needs both mean and std, or neither.')
        self.mean = None if mean is None else torch.as_tensor(mean, dtype=torch.float32)
        self.std = None if std is None else torch.as_tensor(std, dtype=torch.float32)
        self.bgr_to_rgb = bgr_to_rgb

    @classmethod
    def of(cls, preprocessor: nn.Module) -> 'PixelNormaliser':
        """The normaliser of a built ``SegDataPreProcessor`` (its public ``mean``/``std``
        buffers, which exist only when it normalises, and ``channel_conversion``)."""
        mean, std = getattr(preprocessor, 'mean', None), getattr(preprocessor, 'std', None)
        return cls(None if mean is None else mean.flatten().cpu(),
                   None if std is None else std.flatten().cpu(),
                   bool(getattr(preprocessor, 'channel_conversion', False)))

    def stat(self, value: Tensor, like: Tensor) -> Tensor:
        """``value`` shaped to broadcast over ``like``'s channel axis (``…×3×H×W``)."""
        return value.to(device=like.device, dtype=like.dtype).reshape(-1, 1, 1)

    def rgb(self, images: Tensor) -> Tensor:
        """``…×3×H×W`` raw images in network channel order (no scaling)."""
        if self.bgr_to_rgb and images.shape[-3] == 3:
            return images.flip(-3)
        return images

    def normalise(self, images: Tensor) -> Tensor:
        """Raw ``…×3×H×W`` images → float network inputs."""
        images = self.rgb(images.float())
        if self.mean is None:
            return images
        return (images - self.stat(self.mean, images)) / self.stat(self.std, images)

    def unnormalise(self, inputs: Tensor) -> Tensor:
        """Network inputs ``…×3×H×W`` → uint8 images: ``round(x·std + mean)`` clamped to [0, 255].

        Rounds rather than truncates: the inputs were normalised from integer
        pixels, and ``x·std + mean`` carries float error on either side of the
        integer, so truncation would lower about half the pixels by one level.
        """
        if self.mean is not None:
            inputs = inputs * self.stat(self.std, inputs) + self.stat(self.mean, inputs)
        return inputs.round().clamp(0, 255).to(torch.uint8)

    def __repr__(self) -> str:
        stats = (None, None) if self.mean is None else (self.mean.tolist(), self.std.tolist())
        return (f'{type(self).__name__}(mean={stats[0]}, std={stats[1]}, '
                f'bgr_to_rgb={self.bgr_to_rgb})')


def stack_field(data_samples: SampleList, name: str, fix: str) -> Tensor:
    """Field ``name`` of every sample stacked (``PixelData``: its ``1×H×W`` map's ``H×W``).

    A missing field raises a ``KeyError`` naming it, the sample and ``fix``.
    """
    missing = [i for i, s in enumerate(data_samples) if name not in s]
    if missing:
        raise KeyError(f'{name!r} is missing from data sample {missing[0]}; {fix}')
    fields = [s.get(name) for s in data_samples]
    return torch.stack([f.data[0] if isinstance(f, PixelData) else f for f in fields])


def stack_view(data_samples: SampleList, name: str, like: Tensor) -> Tensor:
    """The raw ``3×H×W`` view ``name`` of every sample, stacked on ``like``'s device."""
    images = stack_field(data_samples, name, (
        'add the transform or dataset wrapper that provides this view '
        '(NormalisedPhotometricView, KNNPairDataset or MaskContrastViews) and '
        'PackMultiViewSegInputs to the training pipeline.')).to(like.device)
    if images.shape[-2:] != like.shape[-2:]:
        raise ValueError(f'View {name!r} has size {tuple(images.shape[-2:])} but the input '
                         f'has {tuple(like.shape[-2:])}; both need the same pipeline.')
    return images


def view_inputs(data_samples: SampleList, name: str, inputs: Tensor,
                preprocessor: nn.Module) -> Tensor:
    """Network inputs of the view ``name``: :func:`stack_view`, normalised like ``inputs``."""
    return PixelNormaliser.of(preprocessor).normalise(stack_view(data_samples, name, inputs))
