"""CAUSE's segmentation projection: a linear plus a nonlinear 1×1 branch."""
import torch.nn as nn
from torch import Tensor


class CauseProjection(nn.Module):
    """``out = f1(drop(x)) + f2(drop(x))``, ``f1`` a 1×1 conv, ``f2`` conv–ReLU–conv.

    ``drop`` is applied twice (independent masks). The reference's
    ``HeadSegment`` and the tail of its TR decoder; the same form as STEGO's
    head, but the reference drops elements (``nn.Dropout``), not channels.

    Args:
        in_channels: Input width ``C``.
        out_channels: Output width ``D`` (90).
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.f1 = nn.Conv2d(in_channels, out_channels, 1)
        self.f2 = nn.Sequential(nn.Conv2d(in_channels, in_channels, 1), nn.ReLU(),
                                nn.Conv2d(in_channels, out_channels, 1))

    def forward(self, x: Tensor, drop: nn.Module) -> Tensor:
        """``B×C×h×w`` -> ``B×D×h×w``."""
        return self.f1(drop(x)) + self.f2(drop(x))
