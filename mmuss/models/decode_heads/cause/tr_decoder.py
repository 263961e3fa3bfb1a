"""CAUSE-TR's decoder: concept-quantised queries attend to the patch features."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .projection import CauseProjection


def gather_rows(tokens: Tensor, positions: Optional[Tensor]) -> Tensor:
    """Rows ``positions`` (``B×n``) of ``B×N×C`` tokens -> ``B×n×C`` (all rows when ``None``)."""
    if positions is None:
        return tokens
    return tokens.gather(1, positions[..., None].expand(-1, -1, tokens.shape[-1]))


def absorbed_attention(attn: nn.MultiheadAttention, query: Tensor, keys: Sequence[Tensor],
                       value: Tensor, block: int = 512) -> Tensor:
    """``attn(query, Σ keys, value)`` with the key/value projections on the query side.

    Per head ``h`` (width ``d``), ``q_h = (x W_q + b_q)_h / √d``, the weights
    ``α = drop(softmax(q_h (k W_k + b_k)_hᵀ))`` and the output
    ``α (v W_v + b_v)_h``, then ``W_o``. The key bias adds one constant per
    query row, which the softmax ignores; ``q_h W_{k,h}`` is computed once per
    query, and ``W_{v,h}`` after the weighted sum:
    ``(α v) W_{v,h}ᵀ + b_{v,h} Σ_j α_j`` (``Σ α ≠ 1`` under attention dropout).
    So no ``B×N×C`` projected keys or values exist: with ``n ≪ N`` queries
    (CAUSE-TR's grid-sampled student) the projections cost ``n·C²`` instead
    of ``N·C²`` and backward keeps only the ``n×N`` weights. With ``H`` heads
    the weights and mixing cost ``H·n·N·C`` instead of ``n·N·C`` (the same for
    CAUSE-TR's single head). Queries are processed ``block`` at a time. The
    parameters are ``attn``'s own (``in_proj_*``, ``out_proj``, ``dropout``),
    so checkpoints are unchanged; ``attn`` must be batch-first with one
    packed input projection with biases and no ``bias_k``/``add_zero_attn``.

    Keys and values come channels first (``B×C×N``, the layout of flattened
    feature maps), so no transposed copy of them is made or kept for backward.

    Args:
        attn: The attention module (``batch_first``, ``C`` divisible by its heads).
        query: ``B×n×C``.
        keys: Summands of the key input, each ``B×C×N`` or ``C×N`` (shared by the batch).
        value: ``B×C×N`` value input.
        block: Queries per block (bounds the ``B×H×block×N`` weights).

    Returns:
        ``B×n×C``.
    """
    if not (attn.batch_first and attn._qkv_same_embed_dim and attn.in_proj_bias is not None
            and attn.bias_k is None and not attn.add_zero_attn):
        raise ValueError(f'absorbed_attention needs a batch-first nn.MultiheadAttention with '
                         f'a packed biased input projection and no bias_k/add_zero_attn, got '
                         f'{attn}.')
    b, n, c = query.shape
    heads = attn.num_heads
    d = c // heads
    w_q, w_k, w_v = attn.in_proj_weight.chunk(3)
    b_q, _, b_v = attn.in_proj_bias.chunk(3)
    q = F.linear(query, w_q, b_q).unflatten(-1, (heads, d)).transpose(1, 2) * d**-0.5
    q = q @ w_k.unflatten(0, (heads, d))
    value = value[:, None]
    w_v = w_v.unflatten(0, (heads, d)).transpose(1, 2)
    mixed = []
    for start in range(0, n, block):
        q_block = q[:, :, start:start + block]
        scores = sum(q_block @ (k[:, None] if k.dim() == 3 else k) for k in keys)
        weights = F.dropout(scores.softmax(dim=-1), attn.dropout, attn.training)
        weighted = (value @ weights.transpose(-1, -2)).transpose(-1, -2)
        mixed.append(weighted @ w_v + b_v.view(heads, 1, d) * weights.sum(dim=-1, keepdim=True))
    return attn.out_proj(torch.cat(mixed, dim=2).transpose(1, 2).flatten(2))


class CauseTRDecoder(nn.Module):
    """One post-norm transformer-decoder layer plus :class:`CauseProjection`.

    With queries ``t`` (the clusterbook-quantised patches), memory ``m`` (the
    patch features) and a learned positional embedding ``p`` (one per patch):

    1. ``t = LN1(t + Drop(SelfAttn(q=k=t+p, v=t)))``
    2. ``t = LN2(t + Drop(CrossAttn(q=t+p, k=v=m)))``
    3. ``t = LN3(t + Drop(W2 Drop(ReLU(W1 t))))``
    4. ``out = CauseProjection(m + t)``

    (the reference adds the memory after the third norm). One head, width
    ``C``, feed-forward width 2048, dropout 0.1. The attentions run through
    :func:`absorbed_attention` (the modules' own parameters, another order of
    the products).

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
        tgt_cf, mem_cf = queries.flatten(2), memory.flatten(2)
        tgt, mem = tgt_cf.transpose(1, 2), mem_cf.transpose(1, 2)
        pos = self.query_pos[None].expand(b, -1, -1)
        pos_q = gather_rows(pos, positions)
        out = gather_rows(tgt, positions)
        out = self.norm1(out + self.dropout1(absorbed_attention(
            self.self_attn, out + pos_q, (tgt_cf, self.query_pos.T), tgt_cf)))
        out = self.norm2(out + self.dropout2(
            absorbed_attention(self.cross_attn, out + pos_q, (mem_cf, ), mem_cf)))
        out = self.norm3(out + self.dropout3(self.linear2(self.dropout(F.relu(
            self.linear1(out))))))
        out = gather_rows(mem, positions) + out
        return self.projection(out.transpose(1, 2).reshape(b, c, *out_shape), drop)
