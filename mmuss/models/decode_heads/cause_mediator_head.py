"""CAUSE step 1: the concept clusterbook fitted to frozen patch features."""
from typing import Dict, Tuple

import torch
import torch.nn as nn
from mmseg.registry import MODELS
from mmseg.utils import OptConfigType, SampleList
from torch import Tensor

from ..utils.backbone_output import BackboneOutput
from .cause.quantize import random_grid_sample
from .base_uss_head import BaseUSSHead, Views


@MODELS.register_module()
class CauseMediatorHead(BaseUSSHead):
    """The mediator of CAUSE's front-door adjustment: ``K`` concept prototypes.

    ``clusterbook`` (``K×C``, initialised uniformly in ``±1/K`` as the
    reference) is the only trained parameter; ``loss_mod``
    (:class:`CauseModularityLoss`, τ = 0.1) maximises the modularity of each
    image's patch graph under the soft concept assignment of grid-sampled
    patches. :class:`CauseClusterbookHook` writes it for the next steps.
    This stage makes no predictions (no probes).

    Args:
        in_channels: Backbone width ``C``.
        num_classes: Ground-truth classes (for the contract only).
        num_codebook: ``K`` (2048).
        grid_stride: Grid-sampling cell side (4); 0 keeps every patch.
        loss_mod: Modularity loss config.
        init_cfg: Initialisation config.
    """

    def __init__(self, in_channels: int, num_classes: int, num_codebook: int = 2048,
                 grid_stride: int = 4, loss_mod: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(in_channels=in_channels, channels=in_channels, num_classes=num_classes,
                         num_clusters=max(num_codebook, num_classes), cluster_probe=False,
                         linear_probe=False, init_cfg=init_cfg)
        self.grid_stride = grid_stride
        self.clusterbook = nn.Parameter(torch.empty(num_codebook, in_channels))
        self.loss_mod = MODELS.build(loss_mod or dict(type='CauseModularityLoss'))
        self.reset_clusterbook()

    @torch.no_grad()
    def reset_clusterbook(self) -> None:
        """``U(−1/K, 1/K)`` entries, the reference's initialisation."""
        bound = 1.0 / self.clusterbook.shape[0]
        self.clusterbook.uniform_(-bound, bound)

    def forward(self, inputs: BackboneOutput) -> Tensor:
        """The backbone map itself (``B×C×h×w``): the clusterbook is fitted to it."""
        return self.select_feature(inputs)

    def method_loss(self, inputs: BackboneOutput, views: Views, code: Tensor,
                    data_samples: SampleList) -> Dict[str, Tensor]:
        feats = random_grid_sample(code, self.grid_stride)[0] if self.grid_stride else code
        check_graph_size(tuple(code.shape[-2:]), feats.shape[-2] * feats.shape[-1],
                         self.grid_stride)
        return {'loss_mod': self.loss_mod(feats, self.clusterbook)}


def check_graph_size(grid: Tuple[int, int], nodes: int, stride: int) -> None:
    """``ValueError`` when grid sampling leaves an image fewer than 2 patches.

    The modularity of a graph with fewer than two nodes is ``0 / 0`` (no edge
    weight), so the loss would be NaN (or, with no node, zero and untrained).
    """
    if nodes < 2:
        raise ValueError(
            f'CauseMediatorHead: grid sampling a {grid[0]}x{grid[1]} patch grid with '
            f'grid_stride={stride} leaves {nodes} patch(es) per image; the modularity loss '
            f'needs at least 2 (else it is 0/0 = NaN). Train on larger crops (at least '
            f'{2 * max(stride, 1)} patches along one side) or lower grid_stride.')
