"""A frozen toy backbone for the PriMaPs-EM end-to-end tests (no weights, no downloads)."""
import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS

from mmuss.models.utils import BackboneOutput


@MODELS.register_module(force=True)
class PatchColourBackbone(BaseModule):
    """Colour mean/std of ``patch×patch`` cells, lifted to ``dims`` channels by a fixed map.

    On the synthetic textures the classes differ in colour and texture, so these
    features carry real (if weak) segment structure for PriMaPs and the prototypes.
    """

    def __init__(self, dims: int = 16, patch: int = 4) -> None:
        super().__init__()
        self.patch = patch
        lift = torch.randn(dims, 6, generator=torch.Generator().manual_seed(0))
        self.register_buffer('lift', lift)

    def forward(self, x: torch.Tensor) -> BackboneOutput:
        mean = F.avg_pool2d(x, self.patch)
        std = (F.avg_pool2d(x * x, self.patch) - mean**2).clamp_min(0).sqrt()
        stats = torch.cat([mean, std], dim=1)
        return BackboneOutput([torch.tanh(torch.einsum('bchw,dc->bdhw', stats, self.lift))])
