"""Raw images ↔ network inputs, as mmseg's ``SegDataPreProcessor`` converts them.

The one place mmuss (un)normalises images: extra views of a sample are
normalised like the main input (:func:`normalise_images`), and the dense CRF
and the online PriMaPs proposer get the uint8 image back from the network
input (:func:`unnormalise_images`).
"""
from typing import Sequence, Union

import torch
import torch.nn as nn
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


def stack_view(data_samples: SampleList, name: str, like: Tensor) -> Tensor:
    """The raw view ``name`` of every sample, stacked on ``like``'s device.

    A view is a ``3×H×W`` image that the data pipeline stores as a
    data-sample field (:class:`PackMultiViewSegInputs`, :class:`KNNPairDataset`)
    and that must match the input's size.
    """
    missing = [i for i, s in enumerate(data_samples) if name not in s]
    if missing:
        raise KeyError(f'The model needs the view {name!r} but data sample {missing[0]} has '
                       f'no such field; add the transform or dataset wrapper that provides it '
                       f'(PhotometricView, NormalisedPhotometricView, KNNPairDataset or '
                       f'MaskContrastViews) and PackMultiViewSegInputs to the training pipeline.')
    images = torch.stack([s.get(name) for s in data_samples]).to(like.device)
    if images.shape[-2:] != like.shape[-2:]:
        raise ValueError(f'View {name!r} has size {tuple(images.shape[-2:])} but the input '
                         f'has {tuple(like.shape[-2:])}; both need the same pipeline.')
    return images


def view_inputs(data_samples: SampleList, name: str, inputs: Tensor,
                preprocessor: nn.Module) -> Tensor:
    """Network inputs of the view ``name``: :func:`stack_view` then :func:`normalise_images`."""
    return normalise_images(stack_view(data_samples, name, inputs), preprocessor)
