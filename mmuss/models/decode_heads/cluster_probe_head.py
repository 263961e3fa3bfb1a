"""The "DINO baseline" of every USS table: a cosine cluster probe on frozen features."""
from mmseg.registry import MODELS
from mmseg.utils import OptConfigType
from torch import Tensor

from ..utils.backbone_output import BackboneOutput
from .base_uss_head import BaseUSSHead


@MODELS.register_module()
class ClusterProbeHead(BaseUSSHead):
    """Cluster (and optional linear) probe directly on the backbone features.

    The code is the selected backbone map itself, so the only trained
    parameters are the probes'. Prototypes can be initialised from a feature
    sample (PCA or spherical k-means) by :class:`PrototypeInitHook`.

    Args:
        in_channels: Backbone width ``D``.
        num_classes: Number of ground-truth classes.
        num_clusters: Number of clusters (defaults to ``num_classes``).
        **kwargs: See :class:`BaseUSSHead`.
    """

    def __init__(self, in_channels: int, num_classes: int, num_clusters: int = None,
                 init_cfg: OptConfigType = None, **kwargs) -> None:
        super().__init__(in_channels=in_channels, channels=in_channels,
                         num_classes=num_classes, num_clusters=num_clusters,
                         init_cfg=init_cfg, **kwargs)

    def forward(self, inputs: BackboneOutput) -> Tensor:
        return self.select_feature(inputs)
