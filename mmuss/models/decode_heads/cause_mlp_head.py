"""CAUSE-MLP: the per-patch CAUSE head."""
import torch.nn as nn
from mmseg.registry import MODELS
from torch import Tensor

from ..utils.cause_projection import CauseProjection
from .cause_head import CauseHead


@MODELS.register_module()
class CauseMLPHead(CauseHead):
    """CAUSE-MLP: the code is :class:`CauseProjection` of each patch feature.

    Per-patch, so grid sampling may precede the head. See :class:`CauseHead`.
    """

    grid_before_head = True

    def build_head(self) -> nn.Module:
        return CauseProjection(self.in_channels, self.channels)

    def code_of(self, module: nn.Module, feats: Tensor) -> Tensor:
        return module(feats, self.dropout)
