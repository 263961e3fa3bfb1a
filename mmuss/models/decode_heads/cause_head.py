"""The shared part of CAUSE's heads: EMA teacher, projections, concept bank, losses."""
from abc import abstractmethod
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
from mmseg.registry import MODELS
from mmseg.utils import OptConfigType, SampleList
from torch import Tensor

from ..utils.backbone_output import BackboneOutput
from .cause.clusterbook import load_clusterbook
from .cause.concept_bank import ConceptBank
from .cause.quantize import codeword_indices, grid_sample, random_grid_sample
from ..utils.ema import EMATeacher
from ..utils.freeze import freeze_, frozen_copy
from ..utils.linear_probe import linear_probe_loss
from .base_uss_head import BaseUSSHead, Views, has_gt_labels, stack_gt_labels


def flat_patches(maps: Tensor) -> Tensor:
    """``B×C×h×w`` -> ``B×(h·w)×C``."""
    return maps.flatten(2).transpose(1, 2)


class CauseHead(BaseUSSHead):
    """CAUSE's segmentation head (Kim et al., front-door adjustment), shared by MLP and TR.

    Modules: the student ``head`` (built by :meth:`build_head`) with its
    ``projection`` (1×1 conv ``D -> P``), their EMA teachers ``head_ema`` and
    ``projection_ema`` (no gradient, but see ``train_head_ema``), the
    ``clusterbook`` buffer (``K×C``, read from ``clusterbook_file`` by
    :meth:`init_weights`) and, with
    ``front_door``, the :class:`ConceptBank`. The code (:meth:`forward`) is
    the EMA head's output, as the reference predicts with ``head_ema``.

    Training (``front_door=True``, step 2): ``loss_front``
    (:class:`CauseContrastiveLoss`) between the student and EMA embeddings of
    grid-sampled patches, positives/negatives from the clusterbook concepts;
    then the bank receives the EMA embeddings. The EMA update
    ``θ' <- m θ' + (1 − m) θ`` (:class:`EMATeacher` ``teacher``) runs at the
    start of every training step but the first, i.e. after each optimiser
    step, as in the reference. Step 3
    (``front_door=False``) freezes the student and trains the probes only.
    The cluster probe is fitted by the modularity objective
    (``loss_probe``) on grid-sampled code, the linear probe by cross-entropy;
    both read the detached EMA code. ``train_head_ema=True`` is the
    reference's step 3 instead (``fine_tuning_{mlp,tr}.py``): ``head_ema``
    is trainable and the linear probe's cross-entropy reaches it undetached,
    so the head every prediction uses is fine-tuned with labels (the cluster
    probe still reads the detached code).

    Args:
        in_channels: Backbone width ``C``.
        channels: Code width ``D`` (``reduced_dim``, 90).
        num_classes: Ground-truth classes (and cluster-probe prototypes).
        clusterbook_file: ``.npy`` written by the mediator stage; ``None`` when the
            weights (clusterbook included) come from a checkpoint.
        num_codebook: Clusterbook size ``K`` (2048).
        proj_channels: Embedding width ``P`` (``projection_dim``, 2048).
        dropout_ratio: Element dropout on the head inputs (0.1).
        ema_momentum: ``m`` (0.99).
        grid_stride: Grid-sampling cell side (4); 0 keeps every patch.
        front_door: Train the head (step 2) or only the probes (step 3).
        train_head_ema: Step 3 only: also train ``head_ema`` by the linear
            probe's cross-entropy, as the reference's fine-tuning does (the
            paper's protocol; not label-free). Default: frozen head.
        bank_size: Concept-bank slots per concept (100).
        bank_keep_ratio: Fraction of a concept's new keys banked (0.5).
        loss_front: Contrastive loss config.
        loss_probe: Cluster-probe loss config (modularity, τ = 0.1).
        cluster_alpha: Logit scale of the cluster probe for CRF unaries (3).
        decoder_batch: Images per head call (memory, not result: the heads
            treat images independently; bounds the full-map activations).
        **kwargs: See :class:`BaseUSSHead`.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int,
                 num_classes: int,
                 clusterbook_file: Optional[str] = None,
                 num_codebook: int = 2048,
                 proj_channels: int = 2048,
                 dropout_ratio: float = 0.1,
                 ema_momentum: float = 0.99,
                 grid_stride: int = 4,
                 front_door: bool = True,
                 train_head_ema: bool = False,
                 bank_size: int = 100,
                 bank_keep_ratio: float = 0.5,
                 loss_front: OptConfigType = None,
                 loss_probe: OptConfigType = None,
                 cluster_alpha: float = 3.0,
                 decoder_batch: int = 4,
                 **kwargs) -> None:
        if front_door and train_head_ema:
            raise ValueError('train_head_ema=True is the reference\'s step 3 (probe fine-tuning) '
                             'and needs front_door=False; step 2 trains head_ema by EMA only.')
        super().__init__(in_channels=in_channels, channels=channels, num_classes=num_classes,
                         cluster_alpha=cluster_alpha, **kwargs)
        self.clusterbook_file = clusterbook_file
        self.grid_stride = grid_stride
        self.front_door = front_door
        self.train_head_ema = train_head_ema
        self.decoder_batch = decoder_batch
        self.dropout = nn.Dropout(dropout_ratio)
        self.register_buffer('clusterbook', torch.zeros(num_codebook, in_channels))
        self.register_buffer('clusterbook_ready', torch.zeros((), dtype=torch.bool))
        self.head = self.build_head()
        self.projection = nn.Conv2d(channels, proj_channels, 1)
        self.head_ema = frozen_copy(self.head).requires_grad_(train_head_ema)
        self.projection_ema = frozen_copy(self.projection)
        self.teacher = EMATeacher({'head_ema': 'head', 'projection_ema': 'projection'},
                                  ema_momentum)
        self.loss_probe = MODELS.build(loss_probe or dict(type='CauseModularityLoss'))
        if front_door:
            self.loss_front = MODELS.build(loss_front or dict(type='CauseContrastiveLoss'))
            self.bank = ConceptBank(num_codebook, bank_size, proj_channels, bank_keep_ratio)
        else:
            freeze_(self.head, eval_mode=False)
            freeze_(self.projection, eval_mode=False)

    @abstractmethod
    def build_head(self) -> nn.Module:
        """The student code module (its EMA copy is made from it)."""

    @abstractmethod
    def code_of(self, module: nn.Module, feats: Tensor) -> Tensor:
        """``module``'s ``B×D×h×w`` code of ``B×C×h×w`` backbone features."""

    #: The code is the EMA head's (CAUSE-TR adds the clusterbook its queries read).
    code_state_prefixes = ('head_ema.', )

    def init_weights(self) -> None:
        """Initialise, copy the student into the teacher, reset the probe, read the clusterbook."""
        super().init_weights()
        self.teacher.copy_students(self)
        if self.cluster_probe is not None:
            bound = 1.0 / self.num_clusters
            with torch.no_grad():
                self.cluster_probe.prototypes.uniform_(-bound, bound)
        if self.clusterbook_file is not None:
            self.set_clusterbook(load_clusterbook(self.clusterbook_file, *self.clusterbook.shape))

    @torch.no_grad()
    def set_clusterbook(self, clusterbook: Tensor) -> None:
        """Copy a ``K×C`` clusterbook in."""
        if clusterbook.shape != self.clusterbook.shape:
            raise ValueError(f'Clusterbook of shape {tuple(clusterbook.shape)}, expected '
                             f'{tuple(self.clusterbook.shape)}.')
        self.clusterbook.copy_(clusterbook)
        self.clusterbook_ready.fill_(True)

    def checked_clusterbook(self) -> Tensor:
        """The clusterbook, refusing an unset one."""
        if not bool(self.clusterbook_ready):
            raise RuntimeError(f'{type(self).__name__} has no clusterbook: set '
                               f'decode_head.clusterbook_file to the mediator stage output.')
        return self.clusterbook

    def forward(self, inputs: BackboneOutput) -> Tensor:
        """EMA-head code ``B×D×h×w`` (dropout active in training, as in the reference).

        Without gradient, except with ``train_head_ema`` (the linear probe's
        cross-entropy then reaches ``head_ema``).
        """
        with torch.set_grad_enabled(self.train_head_ema and torch.is_grad_enabled()):
            return self.code_of(self.head_ema, self.select_feature(inputs))

    @property
    def ema_momentum(self) -> float:
        """``m`` of the EMA teacher."""
        return self.teacher.momentum

    @property
    def teaching(self) -> bool:
        """The EMA teacher follows the student in step 2 only (:func:`update_teachers`)."""
        return self.front_door

    def grid(self, maps: Tensor):
        """Grid-sampled ``maps`` and the order used (``None`` when ``grid_stride`` is 0)."""
        if not self.grid_stride:
            return maps, None
        return random_grid_sample(maps, self.grid_stride)

    def student_code(self, feats: Tensor, order: Optional[Tensor]) -> Tensor:
        """Student code at the grid cells ``order`` (all patches when ``None``).

        ``B×C×h×w`` features -> ``B×D×(h//s)×(w//s)`` (``B×D×h×w``). This
        default runs the head on the whole map and samples its output; heads
        that can compute the sampled patches alone override it.
        """
        code = self.code_of(self.head, feats)
        return code if order is None else grid_sample(code, order, self.grid_stride)

    def embeddings(self, feats: Tensor, code: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Student code and EMA embeddings ``B×P×n×n'`` of grid-sampled patches, and their features.

        ``code`` is the EMA code of ``feats`` (:meth:`forward`); the 1×1
        projection commutes with grid sampling, so it is sampled before it.
        The student's projection is left to the loss, which uses its
        low-rank form (:func:`concept_contrastive_loss`).
        """
        feats_g, order = self.grid(feats)
        code_g = code if order is None else grid_sample(code, order, self.grid_stride)
        with torch.no_grad():
            proj_ema = self.projection_ema(code_g)
        return self.student_code(feats, order), proj_ema, feats_g

    def method_loss(self, inputs: BackboneOutput, views: Views, code: Tensor,
                    data_samples: SampleList) -> Dict[str, Tensor]:
        """``loss_front`` (step 2), then the concept-bank update; nothing in step 3."""
        if not self.front_door:
            return {}
        clusterbook = self.checked_clusterbook()
        student, proj_ema, feats = self.embeddings(self.select_feature(inputs), code)
        codes = codeword_indices(feats, clusterbook).flatten(1)
        keys = flat_patches(proj_ema)
        loss = self.loss_front(flat_patches(student), self.projection.weight.flatten(1),
                               self.projection.bias, keys, codes, clusterbook,
                               *self.bank.entries())
        self.bank.update(codes.flatten(), keys.flatten(0, 1))
        return {'loss_front': loss}

    def probe_losses(self, code: Tensor, data_samples: SampleList) -> Dict[str, Tensor]:
        """Modularity loss of the cluster probe, cross-entropy of the linear probe.

        Both read the detached code, except the linear probe with
        ``train_head_ema`` (the reference's step 3: its cross-entropy reaches
        ``head_ema``).
        """
        losses = {}
        if self.trains_cluster_probe():
            losses['loss_cluster_probe'] = self.loss_probe(self.grid(code.detach())[0],
                                                           self.cluster_probe.prototypes)
        if self.linear_probe is not None and has_gt_labels(data_samples):
            labels = stack_gt_labels(data_samples).to(code.device)
            if self.train_head_ema:
                logits = self.linear_probe.conv(code)
                losses['loss_linear_probe'] = linear_probe_loss(logits, labels, self.ignore_index)
            else:
                losses['loss_linear_probe'] = self.linear_probe.loss(code, labels,
                                                                     self.ignore_index)
        return losses
