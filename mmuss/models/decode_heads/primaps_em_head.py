"""PriMaPs-EM: prototypes fitted to mask proposals by stochastic EM (docs/methods/primaps_em.md)."""
from functools import partial
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType, SampleList
from torch import Tensor

from mmuss.utils.ignore_index import IGNORE_INDEX

from ..utils.backbone_output import BackboneOutput
from ..utils.ema import EMATeacher
from ..utils.freeze import frozen_copy
from .primaps.gain_prototypes import GainPrototypes
from ..utils.images import stack_field
from ..utils.precision import float32_precision
from .base_uss_head import BaseUSSHead, Views


def majority_vote_labels(mask_ids: Tensor, preds: Tensor, num_classes: int,
                         ignore_index: int = IGNORE_INDEX) -> Tensor:
    """E-step pseudo labels: every mask takes the most frequent prediction inside it.

    ``y(p) = argmax_k #{q : m(q) = m(p), ŷ(q) = k}`` for ``m(p) != ignore``
    (ties → the smallest class id), ``y(p) = ignore`` elsewhere.

    Args:
        mask_ids: ``B×H×W`` mask ids in ``[0, 255)`` or ``ignore_index``.
        preds: ``B×H×W`` predicted classes in ``[0, K)``.
        num_classes: ``K``.
        ignore_index: Id of "no mask" (255).

    Returns:
        ``B×H×W`` long pseudo labels.
    """
    if mask_ids.shape != preds.shape:
        raise ValueError(f'Mask ids {tuple(mask_ids.shape)} and predictions '
                         f'{tuple(preds.shape)} differ in shape.')
    batch = mask_ids.shape[0]
    ids = mask_ids.reshape(batch, -1).long()
    valid = ids != ignore_index
    slots = 256
    key = (torch.arange(batch, device=ids.device)[:, None] * slots + ids.clamp(0, slots - 1))
    key = key * num_classes + preds.reshape(batch, -1).long()
    counts = torch.bincount(key[valid], minlength=batch * slots * num_classes)
    counts = counts.reshape(batch, slots, num_classes)
    table = torch.where(counts.sum(-1) > 0, counts.argmax(-1), ignore_index)
    labels = table.gather(1, ids.clamp(0, slots - 1))
    return torch.where(valid, labels, ignore_index).reshape(mask_ids.shape)


def primaps_ema_decay(call: int, max_decay: float = 0.98) -> float:
    """θ_M's decay at its ``call``-th update (1-based; docs/methods/primaps_em.md eq. 13).

    ``d(1) = d(2) = 0`` (hard copies), ``d(c) = min(1 − 1/c, max_decay)``
    for ``c >= 3``.
    """
    if call < 1:
        raise ValueError(f'EMA update calls count from 1, got {call}.')
    return 0.0 if call <= 2 else min(1.0 - 1.0 / call, max_decay)


@MODELS.register_module()
class PrimapsEMHead(BaseUSSHead):
    """Momentum (θ_M, ``theta_m``) and running (θ_R, ``theta_r``) prototypes fitted by PriMaPs-EM.

    Two stages in one run (the reference's init and EM runs):

    1. **Warm-up** (``em_active`` false): the shared cluster probe (cosine
       prototypes, PCA-initialised by :class:`PrototypeInitHook`) trains with
       the spherical k-means loss — the paper's baseline/initialisation.
    2. **EM** (:meth:`start_em`, called by :class:`PrimapsEMHook`): θ_R and θ_M
       start from the cluster-probe directions with gains 1. Each iteration
       θ_M labels the clean view: ``argmax`` at label resolution, then a
       majority vote inside every PriMaPs mask (:func:`majority_vote_labels`);
       θ_R is trained on the student view's features with ``loss_em``
       (:class:`ClassFocalLoss`); θ_M follows θ_R by EMA (:class:`EMATeacher`
       ``teacher``, schedule set by :meth:`set_momentum_schedule`).

    Prototypes act on unnormalised features (:class:`GainPrototypes`). θ_M
    never receives gradient. Mask ids come from the data sample
    (``proposal_key``, cached PNGs loaded by :class:`LoadPrimapsMasks`) or,
    when absent and ``proposer`` is set, are computed online from the clean
    features by :class:`PrimapsProposer`.

    Predictions (``'seg'``): θ_M (``eval_prototypes='theta_m'``) or θ_R
    (``'theta_r'``) once EM has started, the cluster probe before; the other
    θ is also returned as ``'theta_r'``/``'theta_m'`` (score it with a second
    :class:`HungarianIoUMetric`, ``pred_key='pred_theta_r_sem_seg'``).

    Args:
        in_channels: Backbone width ``D``.
        num_classes: Ground-truth classes ``C``.
        num_clusters: Prototypes ``K`` (defaults to ``C``).
        loss_em: Config of θ_R's loss (:class:`ClassFocalLoss`, γ = 2); its
            ``ignore_index`` defaults to the head's.
        eval_prototypes: ``'theta_m'`` or ``'theta_r'``.
        student_view: Name of the photometric view in ``views`` (its features
            feed θ_R), or ``None`` to train θ_R on the clean view.
        proposal_key: Data-sample field holding the mask-id map.
        proposer: Config of an online :class:`PrimapsProposer`, or ``None``.
        **kwargs: See :class:`BaseUSSHead` (probes, ``ignore_index``...).
    """

    def __init__(self, in_channels: int, num_classes: int, num_clusters: Optional[int] = None,
                 loss_em: ConfigType = dict(type='ClassFocalLoss', gamma=2.0),
                 eval_prototypes: str = 'theta_m',
                 student_view: Optional[str] = 'img_student', proposal_key: str = 'gt_primaps',
                 proposer: OptConfigType = None, init_cfg: OptConfigType = None,
                 **kwargs) -> None:
        kwargs.setdefault('cluster_probe', True)
        super().__init__(in_channels=in_channels, channels=in_channels, num_classes=num_classes,
                         num_clusters=num_clusters, init_cfg=init_cfg, **kwargs)
        if eval_prototypes not in ('theta_m', 'theta_r'):
            raise ValueError(f"eval_prototypes must be 'theta_m' or 'theta_r', "
                             f'got {eval_prototypes!r}.')
        if self.cluster_probe is None:
            raise ValueError('PrimapsEMHead needs cluster_probe=True: the warm-up stage '
                             'initialises θ_R/θ_M from it.')
        self.loss_em = MODELS.build({'ignore_index': self.ignore_index, **loss_em})
        self.eval_prototypes = eval_prototypes
        self.student_view = student_view
        self.proposal_key = proposal_key
        self.proposer = MODELS.build(proposer) if proposer is not None else None
        self.theta_r = GainPrototypes(in_channels, self.num_clusters)
        self.theta_m = frozen_copy(self.theta_r)
        self.register_buffer('em_active', torch.tensor(False))
        self.teacher = EMATeacher({'theta_m': 'theta_r'}, primaps_ema_decay)
        self.set_momentum_schedule()

    def forward(self, inputs: BackboneOutput) -> Tensor:
        """The code is the raw backbone map."""
        return self.select_feature(inputs)

    @torch.no_grad()
    def start_em(self) -> None:
        """Copy the cluster-probe directions into θ_R and θ_M (gains 1) and enter EM."""
        directions = self.cluster_probe.prototypes.detach()
        self.theta_r.reset(directions)
        self.theta_m.reset(directions)
        self.em_active.fill_(True)
        self.teacher.reset()

    def set_momentum_schedule(self, interval: int = 10, max_decay: float = 0.98) -> None:
        """θ_M's update call ``c`` follows EM iteration ``t = c·interval`` (counted from 0).

        ``θ_M ← d·θ_M + (1 − d)·θ_R`` with ``d`` from :func:`primaps_ema_decay`;
        :func:`update_teachers` applies it at the start of the next step
        (docs/methods/primaps_em.md Q13).
        """
        self.teacher.interval = interval
        self.teacher.first = interval + 1
        self.teacher.momentum = partial(primaps_ema_decay, max_decay=max_decay)

    @property
    def teaching(self) -> bool:
        """θ_M follows θ_R during EM only."""
        return bool(self.em_active)

    @property
    def needs_images(self) -> bool:
        """An online proposer reads the images (their size, and the CRF its pixels)."""
        return self.proposer is not None

    def proposals(self, code: Tensor, data_samples: SampleList,
                  images: Optional[Tensor] = None) -> Tensor:
        """``B×H×W`` mask ids: cached in the samples, else computed online from ``images``."""
        if self.proposer is not None and not all(self.proposal_key in s for s in data_samples):
            if images is None:
                raise ValueError('PrimapsEMHead computes proposals online but got no images: '
                                 'FrozenBackboneSegmentor passes them (needs_images).')
            return self.proposer(code, images=images).to(code.device).long()
        return stack_field(data_samples, self.proposal_key, (
            f'add LoadPrimapsMasks and PackMultiViewSegInputs(pixel_keys=[{self.proposal_key!r}])'
            f' or an online proposer (decode_head.proposer).')).to(code.device).long()

    @float32_precision
    def em_losses(self, clean: Tensor, student: Tensor, mask_ids: Tensor) -> Dict[str, Tensor]:
        """E-step with θ_M on the clean features, M-step loss of θ_R on the student's.

        Args:
            clean: ``B×D×h×w`` clean-view features.
            student: ``B×D×h×w`` student-view features.
            mask_ids: ``B×H×W`` mask ids (255 = none).
        """
        size = mask_ids.shape[-2:]
        with torch.no_grad():
            teacher = F.interpolate(self.theta_m(clean), size=size, mode='bilinear',
                                    align_corners=self.align_corners)
            labels = majority_vote_labels(mask_ids, teacher.argmax(1), self.num_clusters,
                                          self.ignore_index)
        logits = F.interpolate(self.theta_r(student), size=size, mode='bilinear',
                               align_corners=self.align_corners)
        return {'loss_em_focal': self.loss_em(logits, labels)}

    @property
    def view_names(self) -> Tuple[str, ...]:
        """The student view, if θ_R trains on one."""
        return (self.student_view, ) if self.student_view is not None else ()

    def trains_cluster_probe(self) -> bool:
        """Only during warm-up: EM trains θ_R instead."""
        return not bool(self.em_active)

    def method_loss(self, inputs: BackboneOutput, views: Views, code: Tensor,
                    data_samples: SampleList, images: Optional[Tensor] = None
                    ) -> Dict[str, Tensor]:
        """EM: the focal loss of θ_R on the student view; none during warm-up.

        ``images``: uint8 input images, for the online proposer.
        """
        if not bool(self.em_active):
            return {}
        student = code
        if self.student_view is not None:
            student = self.select_feature(self.view(views, self.student_view))
        return self.em_losses(code, student, self.proposals(code, data_samples, images))

    def logits_from_code(self, code: Tensor) -> Dict[str, Tensor]:
        """``'seg'``: the evaluated prototypes, plus the other θ and the linear probe.

        Before EM both θ are reported as the cluster probe they will start from.
        """
        if bool(self.em_active):
            thetas = {'theta_m': self.theta_m(code), 'theta_r': self.theta_r(code)}
        else:
            thetas = dict.fromkeys(('theta_m', 'theta_r'), self.cluster_probe.logits(code))
        other = 'theta_r' if self.eval_prototypes == 'theta_m' else 'theta_m'
        logits = {'seg': thetas[self.eval_prototypes], other: thetas[other]}
        if self.linear_probe is not None:
            logits['linear'] = self.linear_probe(code)
        return logits
