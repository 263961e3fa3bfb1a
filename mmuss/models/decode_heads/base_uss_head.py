"""The decode-head contract shared by every mmuss method."""
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.utils import ConfigType, OptConfigType, SampleList
from torch import Tensor

from mmuss.utils.ignore_index import IGNORE_INDEX

from ..utils.backbone_output import BackboneOutput
from ..utils.cluster_probe import ClusterProbe
from ..utils.linear_probe import LinearProbe


def stack_gt_labels(batch_data_samples: SampleList) -> Tensor:
    """``B×H×W`` long tensor of the samples' ``gt_sem_seg``."""
    return torch.stack([s.gt_sem_seg.data[0] for s in batch_data_samples]).long()


def has_gt_labels(batch_data_samples: SampleList) -> bool:
    """Whether every sample carries a ground-truth map (unlabelled data does not)."""
    return all('gt_sem_seg' in s for s in batch_data_samples)


class BaseUSSHead(BaseModule, metaclass=ABCMeta):
    """Base of mmuss decode heads: a method's per-pixel code plus the shared probes.

    It keeps mmseg's decode-head contract (``loss(inputs, batch_data_samples,
    train_cfg)`` returns a loss dict, ``predict(inputs, batch_img_metas,
    test_cfg)`` returns logits at the input size, ``num_classes``,
    ``out_channels`` and ``align_corners`` attributes) but not
    ``BaseDecodeHead``'s supervised ``conv_seg``/``loss_decode``, which no
    unsupervised method uses. Subclasses define

    - :meth:`forward`: ``inputs`` (a :class:`BackboneOutput`) → the method's
      code, ``B×D×h×w`` at feature resolution;
    - :meth:`method_loss`: the method's own losses;
    - optionally :meth:`logits_from_code` when predictions do not come from
      the cluster probe (e.g. PriMaPs-EM's momentum prototypes).

    Predictions are cluster ids: the ``'seg'`` logits have ``num_clusters``
    channels and are matched to classes by :class:`HungarianIoUMetric`.

    Args:
        in_channels: Width of the selected backbone map.
        channels: Width ``D`` of the code the probes read.
        num_classes: Number of ground-truth classes ``C`` (for the linear
            probe and the metric).
        num_clusters: Number of clusters ``K >= C``; defaults to ``C``.
        in_index: Which backbone map to use.
        cluster_probe: Whether to train a :class:`ClusterProbe` on the code.
        cluster_alpha: Logit scale of the cluster probe.
        linear_probe: Whether to train a :class:`LinearProbe` on the code
            (uses labels; reported as a second metric only).
        ignore_index: Label ignored by the linear probe.
        align_corners: ``align_corners`` of every resize.
        init_cfg: Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int,
                 num_classes: int,
                 num_clusters: Optional[int] = None,
                 in_index: int = -1,
                 cluster_probe: bool = True,
                 cluster_alpha: float = 2.0,
                 linear_probe: bool = True,
                 ignore_index: int = IGNORE_INDEX,
                 align_corners: bool = False,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg=init_cfg)
        num_clusters = num_classes if num_clusters is None else num_clusters
        if num_clusters < num_classes:
            raise ValueError(f'num_clusters={num_clusters} is smaller than num_classes='
                             f'{num_classes}: Hungarian matching would leave classes '
                             f'unmatched. Use num_clusters >= num_classes.')
        self.in_channels = in_channels
        self.channels = channels
        self.num_classes = num_classes
        self.num_clusters = num_clusters
        self.out_channels = num_clusters
        self.in_index = in_index
        self.ignore_index = ignore_index
        self.align_corners = align_corners
        self.cluster_probe = (ClusterProbe(channels, num_clusters, cluster_alpha)
                              if cluster_probe else None)
        self.linear_probe = LinearProbe(channels, num_classes) if linear_probe else None

    def select_feature(self, inputs: Sequence[Tensor]) -> Tensor:
        """The backbone map this head reads."""
        return inputs[self.in_index]

    @abstractmethod
    def forward(self, inputs: BackboneOutput) -> Tensor:
        """Backbone output → the method's code ``B×D×h×w``."""

    def method_loss(self, inputs: BackboneOutput, code: Tensor,
                    batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """The method's own (label-free) losses; none for a pure probe."""
        return {}

    def logits_from_code(self, code: Tensor) -> Dict[str, Tensor]:
        """Code → named logits at feature resolution.

        ``'seg'`` holds the ``num_clusters``-channel cluster logits (the
        prediction); ``'linear'`` the linear probe's ``num_classes`` logits.
        """
        if self.cluster_probe is None:
            raise NotImplementedError(
                f'{type(self).__name__} has no cluster probe; override logits_from_code.')
        logits = {'seg': self.cluster_probe.logits(code)}
        if self.linear_probe is not None:
            logits['linear'] = self.linear_probe(code)
        return logits

    def probe_losses(self, code: Tensor, batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Cluster-probe loss (no labels) and linear-probe loss (labels, if any)."""
        losses = {}
        if self.cluster_probe is not None:
            losses['loss_cluster_probe'] = self.cluster_probe.loss(code)
        if self.linear_probe is not None and has_gt_labels(batch_data_samples):
            losses['loss_linear_probe'] = self.linear_probe.loss(
                code, stack_gt_labels(batch_data_samples).to(code.device), self.ignore_index)
        return losses

    def loss(self, inputs: BackboneOutput, batch_data_samples: SampleList,
             train_cfg: ConfigType) -> Dict[str, Tensor]:
        """Method losses plus probe losses (probes read the detached code)."""
        code = self(inputs)
        losses = self.method_loss(inputs, code, batch_data_samples)
        losses.update(self.probe_losses(code, batch_data_samples))
        return losses

    def predict_logits(self, inputs: BackboneOutput) -> Dict[str, Tensor]:
        """Named logits at feature resolution."""
        return self.logits_from_code(self(inputs))

    def predict(self, inputs: BackboneOutput, batch_img_metas: List[dict],
                test_cfg: ConfigType) -> Tensor:
        """Cluster logits resized to the input image size (mmseg contract)."""
        return F.interpolate(self.predict_logits(inputs)['seg'],
                             size=batch_img_metas[0]['img_shape'], mode='bilinear',
                             align_corners=self.align_corners)
