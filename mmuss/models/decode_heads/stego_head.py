"""The STEGO/HP segmentation head: a linear plus a nonlinear 1×1 projection of frozen features."""
from typing import Dict, Optional, Tuple

import torch.nn as nn
from mmseg.registry import MODELS
from mmseg.utils import OptConfigType, SampleList
from torch import Tensor

from ..utils.backbone_output import BackboneOutput
from .base_uss_head import BaseUSSHead, Views


@MODELS.register_module()
class StegoHead(BaseUSSHead):
    """``code = linear(drop₁(F)) + nonlinear(drop₂(F))``, plus STEGO's loss.

    Equations: docs/methods/stego.md eqs. 1–2, 10.

    ``drop₁`` and ``drop₂`` are channel dropouts (``Dropout2d``) drawing
    independent masks; the nonlinear branch is conv–ReLU–conv keeping the
    backbone width. The code stays at feature resolution and is neither
    normalised nor activated. The losses read a third, independently
    dropped-out copy ``F̃`` of the backbone map (:meth:`dropped_feats`), as
    the references do.

    With ``loss_corr`` set, the head's one view is ``knn_view``, the KNN
    partners (:class:`KNNPairDataset`), whose backbone output the segmentor
    passes in ``views``. The cluster and linear probes read ``code.detach()``
    (:class:`BaseUSSHead`).

    Args:
        in_channels: Backbone width ``C_f``.
        channels: Code width ``D`` (STEGO 70, HP 512/256).
        num_classes: Number of ground-truth classes.
        num_clusters: Number of clusters (defaults to ``num_classes``).
        dropout_ratio: Channel-dropout probability (0.1).
        nonlinear: Whether to add the nonlinear branch.
        loss_corr: Config of the correspondence loss
            (:class:`StegoCorrelationLoss`), or ``None``.
        knn_view: Name of the view holding the KNN partners.
        **kwargs: See :class:`BaseUSSHead`.
    """

    code_state_prefixes = ('linear.', 'nonlinear.')

    def __init__(self,
                 in_channels: int,
                 channels: int,
                 num_classes: int,
                 num_clusters: Optional[int] = None,
                 dropout_ratio: float = 0.1,
                 nonlinear: bool = True,
                 loss_corr: OptConfigType = None,
                 knn_view: str = 'knn_img',
                 init_cfg: OptConfigType = None,
                 **kwargs) -> None:
        super().__init__(in_channels=in_channels, channels=channels, num_classes=num_classes,
                         num_clusters=num_clusters, init_cfg=init_cfg, **kwargs)
        self.dropout = nn.Dropout2d(dropout_ratio)
        self.linear = nn.Conv2d(in_channels, channels, kernel_size=1)
        self.nonlinear = nn.Sequential(
            nn.Conv2d(in_channels, in_channels, kernel_size=1), nn.ReLU(),
            nn.Conv2d(in_channels, channels, kernel_size=1)) if nonlinear else None
        self.loss_corr = MODELS.build(loss_corr) if loss_corr is not None else None
        self.knn_view = knn_view

    def project(self, feats: Tensor) -> Tensor:
        """``B×C_f×h×w`` backbone map → ``B×D×h×w`` code (fresh dropout masks per branch)."""
        code = self.linear(self.dropout(feats))
        if self.nonlinear is not None:
            code = code + self.nonlinear(self.dropout(feats))
        return code

    def forward(self, inputs: BackboneOutput) -> Tensor:
        return self.project(self.select_feature(inputs))

    def dropped_feats(self, inputs: BackboneOutput) -> Tensor:
        """``F̃``: the backbone map with its own channel-dropout mask (identity in eval)."""
        return self.dropout(self.select_feature(inputs))

    @property
    def view_names(self) -> Tuple[str, ...]:
        """The KNN partners when the correspondence loss is on."""
        return (self.knn_view, ) if self.loss_corr is not None else ()

    def method_loss(self, inputs: BackboneOutput, views: Views, code: Tensor,
                    data_samples: SampleList) -> Dict[str, Tensor]:
        """STEGO's correspondence loss against the KNN partners (if configured)."""
        if self.loss_corr is None:
            return {}
        partner = self.view(views, self.knn_view)
        return self.loss_corr(self.dropped_feats(inputs), code, self.dropped_feats(partner),
                              self(partner))
