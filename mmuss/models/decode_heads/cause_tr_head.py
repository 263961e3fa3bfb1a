"""CAUSE-TR: the CAUSE head with a transformer decoder over concept-quantised queries."""
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
from mmseg.registry import MODELS
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from .cause.quantize import codeword_indices, codewords, grid_positions
from .cause.tr_decoder import CauseTRDecoder
from .cause_head import CauseHead


@MODELS.register_module()
class CauseTRHead(CauseHead):
    """CAUSE-TR: ``code = CauseTRDecoder(quantise(F, clusterbook), F)``.

    The queries are the patches replaced by their clusterbook concepts; the
    decoder mixes patches, so the student's code at the grid-sampled patches
    needs the keys and values of all of them, but nothing else
    (:meth:`student_code`). The decoder's positional embedding fixes the
    number of patches: train and evaluate at one resolution. See
    :class:`CauseHead`.

    The student's activations are not kept for backward but recomputed there
    (``recompute_student``, activation checkpointing with the same dropout
    masks), ``decoder_batch`` images at a time: its codeword keys/values
    (``B×C×N``) and feed-forward would otherwise coexist with the
    contrastive loss's temporaries, for one more student forward (a few
    percent of the step's FLOPs).

    Args:
        num_queries: Patches per image ``(size / patch)²`` (1600 at 320 with /8,
            529 at 322 with /14).
        recompute_student: Recompute the student decoder in backward (memory,
            not result).
        **kwargs: See :class:`CauseHead`.
    """

    #: The code needs the EMA decoder and the clusterbook (and its ready flag) of the queries.
    code_state_prefixes = ('head_ema.', 'clusterbook')

    def __init__(self, num_queries: int, recompute_student: bool = True, **kwargs) -> None:
        self.num_queries = num_queries
        self.recompute_student = recompute_student
        super().__init__(**kwargs)
        self._memo: Optional[Tuple[Optional[Tensor], Optional[Tensor]]] = None

    def loss(self, *args, **kwargs) -> Dict[str, Tensor]:
        """:meth:`CauseHead.loss`, assigning the concepts once for teacher and student."""
        self._memo = (None, None)
        try:
            return super().loss(*args, **kwargs)
        finally:
            self._memo = None

    def concepts(self, feats: Tensor) -> Tensor:
        """``B×h×w`` concepts of the patches (:func:`codeword_indices`), reused within one
        :meth:`loss`; the decoder queries are their codewords."""
        if self._memo is not None and self._memo[0] is feats:
            return self._memo[1]
        concepts = codeword_indices(feats, self.checked_clusterbook())
        if self._memo is not None:
            self._memo = (feats, concepts)
        return concepts

    def build_head(self) -> nn.Module:
        return CauseTRDecoder(self.in_channels, self.channels, self.num_queries)

    def code_of(self, module: nn.Module, feats: Tensor,
                positions: Optional[Tensor] = None) -> Tensor:
        """``module``'s code, at the flat patch indices ``positions`` only if given.

        ``decoder_batch`` images at a time, which bounds the teacher's
        full-map activations (feed-forward ``B×N×2048``, attention weights).
        """
        size = self.decoder_batch
        book = self.checked_clusterbook().to(feats)
        parts = zip(self.concepts(feats).split(size), feats.split(size),
                    [None] * feats.shape[0] if positions is None else positions.split(size))

        def decode(concepts: Tensor, part: Tensor, where: Optional[Tensor]) -> Tensor:
            return module(codewords(book, concepts), part, self.dropout, where)

        if self.recompute_student and torch.is_grad_enabled() and module is self.head:
            return torch.cat([checkpoint(decode, *part, use_reentrant=False) for part in parts])
        return torch.cat([decode(*part) for part in parts])

    def student_code(self, feats: Tensor, order: Optional[Tensor]) -> Tensor:
        """The student decoder run at the grid cells ``order`` only (see :class:`CauseHead`)."""
        positions = None if order is None else grid_positions(order, feats.shape[-1],
                                                              self.grid_stride)
        return self.code_of(self.head, feats, positions)
