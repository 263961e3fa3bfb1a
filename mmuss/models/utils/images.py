"""The one place mmuss converts raw images ↔ network inputs, and looks up a sample's views."""
from typing import Sequence, Union

import torch
import torch.nn as nn
from mmengine.structures import PixelData
from mmseg.utils import SampleList
from torch import Tensor

Stats = Union[Tensor, Sequence[float]]


def normalise_images(images: Tensor, preprocessor: nn.Module) -> Tensor:
    """Raw ``B×3×H×W`` images (pipeline channel order) → network inputs.

    Applies the preprocessor's BGR→RGB conversion and ``(x − mean) / std``,
    as ``SegDataPreProcessor.forward`` does for the main input.
    """
    images = images.float()
    if getattr(preprocessor, 'channel_conversion', False) and images.shape[1] == 3:
        images = images[:, [2, 1, 0]]
    if getattr(preprocessor, '_enable_normalize', False):
        images = (images - preprocessor.mean.to(images)) / preprocessor.std.to(images)
    return images


def unnormalise_images(inputs: Tensor, mean: Stats, std: Stats) -> Tensor:
    """Network inputs ``B×3×H×W`` → uint8 images: ``round(x·std + mean)`` clamped to [0, 255].

    Rounds rather than truncates: the inputs were normalised from integer
    pixels, and ``x·std + mean`` carries float error on either side of the
    integer, so truncation would lower about half the pixels by one level.
    """
    mean_t = torch.as_tensor(mean, dtype=inputs.dtype, device=inputs.device).reshape(1, -1, 1, 1)
    std_t = torch.as_tensor(std, dtype=inputs.dtype, device=inputs.device).reshape(1, -1, 1, 1)
    return (inputs * std_t + mean_t).round().clamp(0, 255).to(torch.uint8)


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
        'add the transform or dataset wrapper that provides this view (PhotometricView, '
        'NormalisedPhotometricView, KNNPairDataset or MaskContrastViews) and '
        'PackMultiViewSegInputs to the training pipeline.')).to(like.device)
    if images.shape[-2:] != like.shape[-2:]:
        raise ValueError(f'View {name!r} has size {tuple(images.shape[-2:])} but the input '
                         f'has {tuple(like.shape[-2:])}; both need the same pipeline.')
    return images


def view_inputs(data_samples: SampleList, name: str, inputs: Tensor,
                preprocessor: nn.Module) -> Tensor:
    """Network inputs of the view ``name``: :func:`stack_view` then :func:`normalise_images`."""
    return normalise_images(stack_view(data_samples, name, inputs), preprocessor)
