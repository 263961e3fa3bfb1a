"""Frozen-backbone segmentor that also encodes extra views of each training sample."""
from typing import Dict, List

import torch
from mmengine.utils import is_list_of
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from torch import Tensor

from ..utils.backbone_output import BackboneOutput
from ..utils.images import view_inputs
from .frozen_backbone_segmentor import FrozenBackboneSegmentor


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

    def encode_views(self, images: Tensor, data_samples: SampleList) -> Dict[str, BackboneOutput]:
        """Frozen-backbone outputs of every configured extra view."""
        return {
            name: self.extract_feat(view_inputs(data_samples, name, images,
                                                self.data_preprocessor))
            for name in self.extra_view_names()
        }

    def _decode_head_forward_train(self, inputs: BackboneOutput,
                                   data_samples: SampleList) -> dict:
        views = self.encode_views(inputs.images, data_samples)
        losses = self.decode_head.loss(inputs, data_samples, self.train_cfg, views=views)
        return {f'decode.{k}': v for k, v in losses.items()}
