"""CAUSE-TR: the CAUSE head with a transformer decoder over concept-quantised queries."""
import torch.nn as nn
from mmseg.registry import MODELS
from torch import Tensor

from ..utils.cause_quantize import quantise
from ..utils.cause_tr_decoder import CauseTRDecoder
from .cause_head import CauseHead


@MODELS.register_module()
class CauseTRHead(CauseHead):
    """CAUSE-TR: ``code = CauseTRDecoder(quantise(F, clusterbook), F)``.

    The queries are the patches replaced by their clusterbook concepts; the
    decoder mixes patches, so grid sampling follows the head. The decoder's
    positional embedding fixes the number of patches: train and evaluate at
    one resolution. See :class:`CauseHead`.

    Args:
        num_queries: Patches per image ``(size / patch)²`` (1600 at 320 with /8,
            529 at 322 with /14).
        **kwargs: See :class:`CauseHead`.
    """

    def __init__(self, num_queries: int, **kwargs) -> None:
        self.num_queries = num_queries
        super().__init__(**kwargs)

    def build_head(self) -> nn.Module:
        return CauseTRDecoder(self.in_channels, self.channels, self.num_queries)

    def code_of(self, module: nn.Module, feats: Tensor) -> Tensor:
        return module(quantise(feats, self.checked_clusterbook()), feats, self.dropout)
