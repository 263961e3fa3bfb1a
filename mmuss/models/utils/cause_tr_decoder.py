"""CAUSE-TR's decoder: concept-quantised queries attend to the patch features."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .cause_projection import CauseProjection


def gather_rows(tokens: Tensor, positions: Optional[Tensor]) -> Tensor:
    """Rows ``positions`` (``B×n``) of ``B×N×C`` tokens -> ``B×n×C`` (all rows when ``None``)."""
    if positions is None:
        return tokens
    return tokens.gather(1, positions[..., None].expand(-1, -1, tokens.shape[-1]))


class CauseTRDecoder(nn.Module):
    """One post-norm transformer-decoder layer plus :class:`CauseProjection`.

    With queries ``t`` (the clusterbook-quantised patches), memory ``m`` (the
    patch features) and a learned positional embedding ``p`` (one per patch):

    1. ``t = LN1(t + Drop(SelfAttn(q=k=t+p, v=t)))``
    2. ``t = LN2(t + Drop(CrossAttn(q=t+p, k=v=m)))``
    3. ``t = LN3(t + Drop(W2 Drop(ReLU(W1 t))))``
    4. ``out = CauseProjection(m + t)``

    (the reference adds the memory after the third norm). One head, width
    ``C``, feed-forward width 2048, dropout 0.1. Attention weights are not
    returned (``need_weights=False``), which lets torch use its fused kernel.

    With one layer, a patch's output depends on the other patches only
    through the attention keys and values; everything else is per patch. So
    :meth:`forward` can compute the output at chosen ``positions`` only: keys
    and values from all patches, queries, residuals, norms, feed-forward and
    projection at those patches. In training the dropout masks are then drawn
    for those patches only.

    Args:
        dims: Backbone width ``C``.
        out_channels: Code width ``D`` (90).
        num_queries: Patches per image ``h·w`` (fixed by the training size).
        hidden_dims: Feed-forward width.
        num_heads: Attention heads.
        dropout: Dropout inside the layer.
    """

    def __init__(self, dims: int, out_channels: int, num_queries: int, hidden_dims: int = 2048,
                 num_heads: int = 1, dropout: float = 0.1) -> None:
        super().__init__()
        self.query_pos = nn.Parameter(torch.randn(num_queries, dims))
        self.self_attn = nn.MultiheadAttention(dims, num_heads, dropout=dropout,
                                               batch_first=True)
        self.cross_attn = nn.MultiheadAttention(dims, num_heads, dropout=dropout,
                                                batch_first=True)
        self.linear1 = nn.Linear(dims, hidden_dims)
        self.linear2 = nn.Linear(hidden_dims, dims)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(dims) for _ in range(3))
        self.dropout = nn.Dropout(dropout)
        self.dropout1, self.dropout2, self.dropout3 = (nn.Dropout(dropout) for _ in range(3))
        self.projection = CauseProjection(dims, out_channels)

    def forward(self, queries: Tensor, memory: Tensor, drop: nn.Module,
                positions: Optional[Tensor] = None) -> Tensor:
        """``B×C×h×w`` quantised queries and features -> ``B×D×h×w`` code.

        ``positions``: ``B×h'×w'`` long indices into the flattened ``h·w``
        patches (row-major); the code is then computed at those patches only,
        ``B×D×h'×w'``, equal to the full code gathered there (without dropout).
        """
        b, c, h, w = memory.shape
        if h * w != self.query_pos.shape[0]:
            raise ValueError(f'CauseTRDecoder was built for {self.query_pos.shape[0]} patches '
                             f'(num_queries) but got a {h}×{w} feature map: evaluate at the '
                             f'training resolution.')
        out_shape = (h, w)
        if positions is not None:
            if positions.dim() != 3 or positions.shape[0] != b:
                raise ValueError(f'CauseTRDecoder positions must be B×h\'×w\' = {b}×h\'×w\' '
                                 f'indices into the {h}×{w} patches, got shape '
                                 f'{tuple(positions.shape)}.')
            out_shape = positions.shape[1:]
            positions = positions.flatten(1).to(memory.device)
        tgt = queries.flatten(2).transpose(1, 2)
        mem = memory.flatten(2).transpose(1, 2)
        pos = self.query_pos[None].expand(b, -1, -1)
        keys = tgt + pos
        pos_q = gather_rows(pos, positions)
        out = gather_rows(tgt, positions)
        out = self.norm1(out + self.dropout1(self.self_attn(
            gather_rows(keys, positions), keys, tgt, need_weights=False)[0]))
        out = self.norm2(out + self.dropout2(
            self.cross_attn(out + pos_q, mem, mem, need_weights=False)[0]))
        out = self.norm3(out + self.dropout3(self.linear2(self.dropout(F.relu(
            self.linear1(out))))))
        out = gather_rows(mem, positions) + out
        return self.projection(out.transpose(1, 2).reshape(b, c, *out_shape), drop)
