"""CAUSE-MLP: the per-patch CAUSE head."""
from typing import Optional

import torch
import torch.nn as nn
from mmseg.registry import MODELS
from torch import Tensor

from .cause.projection import CauseProjection
from .cause.quantize import grid_sample
from .cause_head import CauseHead


@MODELS.register_module()
class CauseMLPHead(CauseHead):
    """CAUSE-MLP: the code is :class:`CauseProjection` of each patch feature.

    Per-patch, so the student runs on the grid-sampled patches only. See
    :class:`CauseHead`.
    """

    def build_head(self) -> nn.Module:
        return CauseProjection(self.in_channels, self.channels)

    def code_of(self, module: nn.Module, feats: Tensor) -> Tensor:
        return torch.cat([module(part, self.dropout) for part in feats.split(self.decoder_batch)])

    def student_code(self, feats: Tensor, order: Optional[Tensor]) -> Tensor:
        """The head run on the grid-sampled features only (per-patch, so the same values)."""
        if order is not None:
            feats = grid_sample(feats, order, self.grid_stride)
        return self.code_of(self.head, feats)
