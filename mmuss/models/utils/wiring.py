"""Sizes a model takes from its built backbone, so configs state them once (docs/architecture.md).

A backbone states its output width as ``embed_dims`` (the DINO-family ViTs,
:class:`FrozenCodeBackbone`) or ``feat_dim`` (mmseg's ResNet) and its stride as
``patch_size``. A head config without ``in_channels`` gets the width; a data
preprocessor with neither ``size`` nor ``size_divisor`` pads to the stride.
"""
from typing import Optional

from mmengine.config import ConfigDict
from torch import nn

WIDTH_ATTRS = ('embed_dims', 'feat_dim')


def backbone_width(backbone: nn.Module) -> Optional[int]:
    """The channel count of the backbone's output map, or None if it does not state it."""
    for attr in WIDTH_ATTRS:
        width = getattr(backbone, attr, None)
        if isinstance(width, int):
            return width
    return None


def backbone_stride(backbone: nn.Module) -> Optional[int]:
    """The backbone's patch size (its output stride), or None if it does not state it."""
    stride = getattr(backbone, 'patch_size', None)
    return stride if isinstance(stride, int) else None


def with_in_channels(head: Optional[dict], backbone: nn.Module, where: str) -> Optional[dict]:
    """``head`` with ``in_channels`` set to the backbone's width when the config leaves it out.

    Raises a ``KeyError`` naming ``where`` (the config key) when neither states the width.
    """
    if head is None or head.get('in_channels') is not None:
        return head
    width = backbone_width(backbone)
    if width is None:
        raise KeyError(f'{where}.in_channels is not set and the backbone '
                       f'{type(backbone).__name__} states no width ({"/".join(WIDTH_ATTRS)}): '
                       f'set {where}.in_channels in the config.')
    return ConfigDict(head, in_channels=width)


def pad_to_backbone_stride(preprocessor: nn.Module, backbone: nn.Module) -> None:
    """Set an mmseg ``SegDataPreProcessor``'s ``size_divisor`` to the backbone's patch size
    when its config sets neither ``size`` nor ``size_divisor`` (mmseg needs exactly one to
    train; a backbone without ``patch_size``, e.g. mmseg's ResNet, leaves both unset).
    """
    if not hasattr(preprocessor, 'size_divisor'):
        return
    if preprocessor.size is None and preprocessor.size_divisor is None:
        preprocessor.size_divisor = backbone_stride(backbone)
