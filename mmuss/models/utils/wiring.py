"""Sizes a model takes from its built backbone, so configs state them once (docs/architecture.md).

An mmuss backbone states the channels of every map it outputs as
``map_channels`` (the DINO-family ViTs: ``embed_dims``; :class:`FrozenCodeBackbone`:
its code width) and its stride as ``patch_size``. A head config without
``in_channels`` gets the width; a data preprocessor with neither ``size`` nor
``size_divisor`` pads to the stride. Other backbones (mmseg's ResNet, whose
maps differ in width by stage) leave both to the config.
"""
import copy
from typing import Optional

from mmengine.config import ConfigDict
from torch import nn


def backbone_width(backbone: nn.Module) -> Optional[int]:
    """The channel count of each of the backbone's output maps, or None if it does not state it."""
    width = getattr(backbone, 'map_channels', None)
    return width if isinstance(width, int) else None


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
                       f'{type(backbone).__name__} states no width (map_channels): set '
                       f'{where}.in_channels in the config.')
    return ConfigDict(head, in_channels=width)


def pad_to_backbone_stride(preprocessor: nn.Module, backbone: nn.Module) -> None:
    """Pad to the backbone's patch size where the preprocessor's config sets no size.

    mmseg's ``SegDataPreProcessor`` needs exactly one of ``size`` and
    ``size_divisor`` to train; a backbone without ``patch_size`` (mmseg's
    ResNet) leaves both as the config sets them.
    """
    if not hasattr(preprocessor, 'size_divisor'):
        return
    if preprocessor.size is None and preprocessor.size_divisor is None:
        preprocessor.size_divisor = backbone_stride(backbone)


def with_built_sizes(model_cfg: dict, model: nn.Module) -> dict:
    """A copy of ``model_cfg`` stating the sizes the built ``model`` took from its backbone.

    Cache manifests record it, so a cache made from a config that stated the
    sizes and one made from a config that leaves them out are the same run.
    """
    cfg = copy.deepcopy(model_cfg)
    head, pre = cfg.get('decode_head'), cfg.get('data_preprocessor')
    if head is not None:
        head['in_channels'] = model.decode_head.in_channels
    if pre is not None and model.data_preprocessor.size_divisor is not None:
        pre['size_divisor'] = model.data_preprocessor.size_divisor
    inner = getattr(model.backbone, 'head', None)
    if inner is not None and isinstance(cfg['backbone'].get('head'), dict):
        cfg['backbone']['head']['in_channels'] = inner.in_channels
    return cfg
