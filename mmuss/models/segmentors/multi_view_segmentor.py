"""Frozen-backbone segmentor that also encodes extra views of each training sample."""
from typing import Dict, List

import torch
from mmengine.utils import is_list_of
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from torch import Tensor

from ..utils.backbone_output import BackboneOutput
from .frozen_backbone_segmentor import FrozenBackboneSegmentor


def normalise_view_images(images: Tensor, preprocessor: torch.nn.Module) -> Tensor:
    """Raw ``B×3×H×W`` view images → network inputs, as the data preprocessor does.

    Applies the preprocessor's BGR→RGB conversion and ``(x − mean) / std``.
    """
    images = images.float()
    if getattr(preprocessor, 'channel_conversion', False) and images.shape[1] == 3:
        images = images[:, [2, 1, 0]]
    if getattr(preprocessor, '_enable_normalize', False):
        images = (images - preprocessor.mean.to(images)) / preprocessor.std.to(images)
    return images


@MODELS.register_module()
class MultiViewSegmentor(FrozenBackboneSegmentor):
    """:class:`FrozenBackboneSegmentor` whose head also sees extra views in training.

    Each name in ``train_cfg.extra_views`` (e.g. ``'knn_img'`` for STEGO's
    nearest-neighbour partner, ``'img_aug'`` for HP's photometric view) is a
    ``3×H×W`` raw image stored in every data sample by the data pipeline
    (:class:`KNNPairDataset`, :class:`PackMultiViewSegInputs`). The views are
    normalised like the main input, encoded by the frozen backbone and passed
    to the head as ``decode_head.loss(inputs, data_samples, train_cfg,
    views={name: BackboneOutput})``. Inference is unchanged.
    """

    def extra_view_names(self) -> List[str]:
        names = list((self.train_cfg or {}).get('extra_views', []))
        if not is_list_of(names, str):
            raise TypeError(f'train_cfg.extra_views must be a list of names, got {names!r}.')
        return names

    def view_images(self, data_samples: SampleList, name: str, like: Tensor) -> Tensor:
        """Stack the raw view ``name`` of every sample onto ``like``'s device."""
        missing = [i for i, s in enumerate(data_samples) if name not in s]
        if missing:
            raise KeyError(f'train_cfg.extra_views lists {name!r} but data sample {missing[0]} '
                           f'has no such field; add the transform or dataset wrapper that '
                           f'provides it to the training pipeline.')
        images = torch.stack([s.get(name) for s in data_samples]).to(like.device)
        if images.shape[-2:] != like.shape[-2:]:
            raise ValueError(f'View {name!r} has size {tuple(images.shape[-2:])} but the input '
                             f'has {tuple(like.shape[-2:])}; both need the same pipeline.')
        return images

    def encode_views(self, images: Tensor, data_samples: SampleList) -> Dict[str, BackboneOutput]:
        """Frozen-backbone outputs of every configured extra view."""
        return {
            name: self.extract_feat(normalise_view_images(
                self.view_images(data_samples, name, images), self.data_preprocessor))
            for name in self.extra_view_names()
        }

    def _decode_head_forward_train(self, inputs: BackboneOutput,
                                   data_samples: SampleList) -> dict:
        views = self.encode_views(inputs.images, data_samples)
        losses = self.decode_head.loss(inputs, data_samples, self.train_cfg, views=views)
        return {f'decode.{k}': v for k, v in losses.items()}
