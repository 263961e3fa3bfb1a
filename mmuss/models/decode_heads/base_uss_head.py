"""The decode-head contract shared by every mmuss method."""
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from mmseg.utils import OptConfigType, SampleList
from torch import Tensor

from mmuss.utils.ignore_index import IGNORE_INDEX

from ..utils.backbone_output import BackboneOutput
from ..utils.cluster_probe import ClusterProbe
from ..utils.linear_probe import LinearProbe

Views = Dict[str, BackboneOutput]


def stack_gt_labels(batch_data_samples: SampleList) -> Tensor:
    """``B×H×W`` long tensor of the samples' ``gt_sem_seg``."""
    return torch.stack([s.gt_sem_seg.data[0] for s in batch_data_samples]).long()


def has_gt_labels(batch_data_samples: SampleList) -> bool:
    """Whether every sample carries a ground-truth map (unlabelled data does not)."""
    return all('gt_sem_seg' in s for s in batch_data_samples)


class BaseUSSHead(BaseModule, metaclass=ABCMeta):
    """Base of mmuss decode heads: a method's per-pixel code plus the shared probes.

    The contract with :class:`FrozenBackboneSegmentor`: :meth:`loss`
    ``(inputs, views, data_samples)``, where ``views`` holds the backbone
    output of each view named in :attr:`view_names`, and :meth:`forward` /
    :meth:`logits_from_code` for prediction. It keeps mmseg's ``num_classes``,
    ``out_channels`` and ``align_corners`` but not ``BaseDecodeHead``'s
    supervised ``conv_seg``/``loss_decode``. Subclasses define

    - :meth:`forward`: ``inputs`` (a :class:`BackboneOutput`) → the method's
      code, ``B×D×h×w`` at feature resolution;
    - :meth:`method_loss`: the method's own losses;
    - optionally :attr:`view_names`, :attr:`needs_images` (the segmentor then
      passes the uint8 input images to :meth:`loss`), :meth:`trains_cluster_probe`, and
      :meth:`logits_from_code` when predictions do not come from the cluster
      probe (e.g. PriMaPs-EM's momentum prototypes);
    - :attr:`code_state_prefixes` when a trained head may serve as
      :class:`FrozenCodeBackbone` (PriMaPs-EM on top of the method).

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

    #: State-dict prefixes of the trained entries :meth:`forward` computes the code from.
    #: :class:`FrozenCodeBackbone` requires every entry under them in a checkpoint's
    #: ``decode_head.*``. ``None``: the head cannot serve as a frozen code.
    code_state_prefixes: Optional[Tuple[str, ...]] = None

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

    def code_state_keys(self) -> List[str]:
        """This head's state-dict keys under :attr:`code_state_prefixes`.

        Raises ``TypeError`` for a head that declares none.
        """
        if self.code_state_prefixes is None:
            raise TypeError(f'{type(self).__name__} declares no code_state_prefixes, so a '
                            f'checkpoint of it cannot be checked for the weights of its code; '
                            f'FrozenCodeBackbone takes StegoHead, HPHead, CauseMLPHead or '
                            f'CauseTRHead.')
        return [k for k in self.state_dict() if k.startswith(self.code_state_prefixes)]

    @property
    def view_names(self) -> Tuple[str, ...]:
        """The extra views :meth:`loss` reads; none for a single-view method."""
        return ()

    @property
    def needs_images(self) -> bool:
        """Whether :meth:`loss` reads the input images (``images=``); pixels otherwise stay
        in the segmentor."""
        return False

    def view(self, views: Views, name: str) -> BackboneOutput:
        """The backbone output of view ``name``, with a clear error if it was not passed."""
        if name not in views:
            raise KeyError(f'{type(self).__name__} needs the view {name!r} (its view_names are '
                           f'{self.view_names}); FrozenBackboneSegmentor encodes them from the '
                           f'data samples, a direct caller of loss() passes them in views '
                           f'(got {sorted(views)}).')
        return views[name]

    def method_loss(self, inputs: BackboneOutput, views: Views, code: Tensor,
                    data_samples: SampleList) -> Dict[str, Tensor]:
        """The method's own (label-free) losses; none for a pure probe.

        A head that :attr:`needs_images` adds an ``images`` argument.
        """
        return {}

    def trains_cluster_probe(self) -> bool:
        """Whether the cluster probe trains in this step (PriMaPs-EM stops it during EM)."""
        return self.cluster_probe is not None

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

    def probe_losses(self, code: Tensor, data_samples: SampleList) -> Dict[str, Tensor]:
        """Cluster-probe loss (no labels) and linear-probe loss (labels, if any)."""
        losses = {}
        if self.trains_cluster_probe():
            losses['loss_cluster_probe'] = self.cluster_probe.loss(code)
        if self.linear_probe is not None and has_gt_labels(data_samples):
            losses['loss_linear_probe'] = self.linear_probe.loss(
                code, stack_gt_labels(data_samples).to(code.device), self.ignore_index)
        return losses

    def loss(self, inputs: BackboneOutput, views: Views, data_samples: SampleList,
             images: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Method losses plus probe losses (probes read the detached code).

        Args:
            inputs: Backbone output of the input images.
            views: Backbone output of each view in :attr:`view_names`.
            data_samples: The batch's data samples.
            images: The uint8 ``B×3×H×W`` input images in network channel order,
                for a head that :attr:`needs_images` (passed on to :meth:`method_loss`).
        """
        if not isinstance(views, dict):
            raise self.needs_frozen_backbone_segmentor()
        code = self(inputs)
        extra = {} if images is None else {'images': images}
        losses = self.method_loss(inputs, views, code, data_samples, **extra)
        losses.update(self.probe_losses(code, data_samples))
        return losses

    def predict(self, *args, **kwargs) -> Tensor:
        """mmseg's ``EncoderDecoder`` entry point: refused (see :meth:`loss`)."""
        raise self.needs_frozen_backbone_segmentor()

    def needs_frozen_backbone_segmentor(self) -> TypeError:
        """The error for a head driven by mmseg's ``EncoderDecoder``.

        ``EncoderDecoder`` calls ``loss(inputs, data_samples, train_cfg)`` and
        ``predict(inputs, metas, test_cfg)``; mmuss heads need the views, the
        frozen backbone and the named probe outputs of the mmuss segmentor.
        """
        return TypeError(
            f"{type(self).__name__} was driven by mmseg's EncoderDecoder, which passes no views "
            f"and predicts only 'pred_sem_seg'. mmuss heads need "
            f"model.type='FrozenBackboneSegmentor' (same backbone/decode_head/test_cfg keys).")
