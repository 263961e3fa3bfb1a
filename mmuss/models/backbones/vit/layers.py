"""ViT layers with the official DINO / DINOv2 / DINOv3 parameter names and maths.

The modules keep the official state-dict key layout (``patch_embed.proj``,
``blocks.i.norm1``, ``attn.qkv`` (``attn.qkv.bias_mask`` in DINOv3),
``attn.proj``, ``ls1.gamma``, ``mlp.fc1`` / ``mlp.w12`` / ``mlp.w1`` ...), so
official checkpoints load with ``strict=True`` and without renaming. Attention goes through
:func:`torch.nn.functional.scaled_dot_product_attention` unless the
pre-softmax logits are needed, in which case the explicit
``softmax(q·kᵀ·d^-½)·v`` path runs.

They are self-contained because the OpenMMLab blocks do not fit: mmcv's
``PatchEmbed`` / ``FFN`` and mmpretrain's ``LayerScale`` (``weight``) use other
parameter names, neither attention returns its logits, and
``mmpretrain.models`` (home of ``SwiGLUFFN``) cannot be imported without
torchvision, which this stack does not install.
"""
import math
from typing import NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .rope import apply_rope


def attention_logits(q: Tensor, k: Tensor) -> Tensor:
    """Pre-softmax attention logits ``A = q·kᵀ·d^-½``.

    Args:
        q: Queries ``B×heads×N×d``.
        k: Keys ``B×heads×N×d``.

    Returns:
        ``B×heads×N×N`` logits (rows: queries, columns: keys).
    """
    return (q @ k.transpose(-2, -1)) * (q.shape[-1] ** -0.5)


def explicit_attention(q: Tensor, k: Tensor, v: Tensor) -> Tuple[Tensor, Tensor]:
    """``softmax(A)·v`` with ``A = q·kᵀ·d^-½``; returns the output and ``A``.

    Args:
        q, k, v: ``B×heads×N×d``.

    Returns:
        ``(B×heads×N×d output, B×heads×N×N pre-softmax logits)``.
    """
    logits = attention_logits(q, k)
    return logits.softmax(dim=-1) @ v, logits


def swiglu(x12: Tensor) -> Tensor:
    """SwiGLU gate ``SiLU(x₁) ⊙ x₂`` where ``[x₁, x₂]`` halves the last axis of ``x12``."""
    x1, x2 = x12.chunk(2, dim=-1)
    return F.silu(x1) * x2


def swiglu_hidden_dims(embed_dims: int, mlp_ratio: float, align: int = 8) -> int:
    """SwiGLU hidden width: ``⌊⅔·⌊ratio·C⌋⌋`` rounded up to a multiple of ``align``.

    ``align`` is 8 for DINOv2 and DINOv3, 64 for DINOv3 ViT-7B (``swiglu64``).
    """
    hidden = int(int(embed_dims * mlp_ratio) * 2 / 3)
    return -(-hidden // align) * align


def interpolate_dino_pos_embed(pos_embed: Tensor, image_hw: Sequence[int], patch_size: int,
                               offset: float = 0.1, antialias: bool = False) -> Tensor:
    """DINO's ``interpolate_pos_encoding``: the pretraining grid resized to the input grid.

    With ``h = H // p`` and ``w = W // p`` patches and a pretraining grid of
    ``M×M`` (``N = M²``) patch embeddings:

    - if ``h·w = N`` and ``H = W`` the embeddings are returned unchanged;
    - if ``offset > 0``: bicubic interpolation (``align_corners=False``) with
      the *scale factors* ``((h + offset)/M, (w + offset)/M)`` - PyTorch maps
      source coordinates with these factors, not with ``h/M``, so the result
      differs from size-based resizing;
    - if ``offset == 0``: bicubic resizing to the size ``(h, w)``.

    ``antialias`` is passed to :func:`torch.nn.functional.interpolate`. The
    class-token embedding (row 0) is kept as is.

    Args:
        pos_embed: ``1×(1+N)×C`` embeddings (class token first).
        image_hw: Input image ``(H, W)`` in pixels.
        patch_size: Patch side ``p``.
        offset: The ``+0.1`` of the official code (0 selects size-based resizing).
        antialias: Whether to antialias (DINOv2 models with registers).

    Returns:
        ``1×(1+h·w)×C`` embeddings in row-major patch order.
    """
    num_patches = pos_embed.shape[1] - 1
    height, width = image_hw[0] // patch_size, image_hw[1] // patch_size
    if height * width == num_patches and image_hw[0] == image_hw[1]:
        return pos_embed
    side = math.isqrt(num_patches)
    if side * side != num_patches:
        raise ValueError(f'pos_embed has {num_patches} patch rows, not a square grid.')
    dims = pos_embed.shape[-1]
    grid = pos_embed[:, 1:].reshape(1, side, side, dims).permute(0, 3, 1, 2)
    if offset:
        resize = dict(scale_factor=((height + offset) / side, (width + offset) / side))
    else:
        resize = dict(size=(height, width))
    grid = F.interpolate(grid, mode='bicubic', antialias=antialias, **resize)
    if tuple(grid.shape[-2:]) != (height, width):
        raise RuntimeError(f'pos-embed interpolation produced a {tuple(grid.shape[-2:])} grid '
                           f'for a {height}x{width} patch grid.')
    grid = grid.permute(0, 2, 3, 1).reshape(1, height * width, dims)
    return torch.cat((pos_embed[:, :1], grid), dim=1)


class PatchEmbed(nn.Module):
    """Non-overlapping ``p×p`` patches → ``B×(h·w)×C`` tokens (``proj`` conv, as official)."""

    def __init__(self, patch_size: int, embed_dims: int, in_channels: int = 3) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2d(in_channels, embed_dims, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tuple[int, int]]:
        x = self.proj(x)
        return x.flatten(2).transpose(1, 2), (x.shape[2], x.shape[3])


class AttentionExtras(NamedTuple):
    """What one attention call can expose besides its output (``None`` when not computed)."""

    logits: Optional[Tensor]
    qkv: Optional[Tuple[Tensor, Tensor, Tensor]]


class KMaskedBiasLinear(nn.Linear):
    """DINOv3's ``qkv`` projection whose bias is multiplied by the buffer ``bias_mask``.

    The mask is 1 on the query and value rows and 0 on the key rows, so the
    key bias never acts (the official checkpoints store both, under
    ``attn.qkv.bias`` / ``attn.qkv.bias_mask``).
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__(in_features, out_features, bias=True)
        third = out_features // 3
        mask = torch.ones(out_features)
        mask[third:2 * third] = 0
        self.register_buffer('bias_mask', mask)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias * self.bias_mask.to(self.bias.dtype))


class Attention(nn.Module):
    """Multi-head self-attention with a fused ``qkv`` projection.

    Args:
        embed_dims: Token width ``C``.
        num_heads: Number of heads; ``d = C / heads``.
        qkv_bias: Whether ``qkv`` has a bias (every DINO model but DINOv3 7B).
        mask_k_bias: Mask the key part of the bias (DINOv3, :class:`KMaskedBiasLinear`).
    """

    def __init__(self, embed_dims: int, num_heads: int, qkv_bias: bool = True,
                 mask_k_bias: bool = False) -> None:
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims={embed_dims} is not divisible by num_heads={num_heads}.')
        self.num_heads = num_heads
        if qkv_bias and mask_k_bias:
            self.qkv = KMaskedBiasLinear(embed_dims, embed_dims * 3)
        else:
            self.qkv = nn.Linear(embed_dims, embed_dims * 3, bias=qkv_bias)
        self.proj = nn.Linear(embed_dims, embed_dims)

    def forward(self, x: Tensor, explicit: bool = False, keep_qkv: bool = False,
                rope: Optional[Tuple[Tensor, Tensor]] = None) -> Tuple[Tensor, AttentionExtras]:
        """``B×N×C`` tokens → output tokens and the optional logits / q, k, v.

        ``rope`` (``(sin, cos)`` of the patch tokens, DINOv3) rotates the
        queries and keys of the trailing patch tokens first; the returned
        q, k are the rotated ones the attention uses. ``explicit`` selects
        ``softmax(q·kᵀ·d^-½)·v`` (and returns the ``B×heads×N×N`` logits);
        otherwise SDPA runs and no logits exist.
        """
        batch, tokens, dims = x.shape
        qkv = self.qkv(x).reshape(batch, tokens, 3, self.num_heads, dims // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        if rope is not None:
            q, k = apply_rope(q, *rope), apply_rope(k, *rope)
        if explicit:
            out, logits = explicit_attention(q, k, v)
        else:
            out, logits = F.scaled_dot_product_attention(q, k, v), None
        out = self.proj(out.transpose(1, 2).reshape(batch, tokens, dims))
        return out, AttentionExtras(logits, (q, k, v) if keep_qkv else None)


class Mlp(nn.Module):
    """``fc2(GELU(fc1(x)))`` with the hidden width ``ratio·C``."""

    def __init__(self, embed_dims: int, hidden_dims: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(embed_dims, hidden_dims)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dims, embed_dims)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.act(self.fc1(x)))


class SwiGLUFFN(nn.Module):
    """DINOv2's fused SwiGLU FFN: ``w3(SiLU(x₁) ⊙ x₂)`` with ``[x₁, x₂] = w12(x)``."""

    def __init__(self, embed_dims: int, hidden_dims: int) -> None:
        super().__init__()
        self.w12 = nn.Linear(embed_dims, 2 * hidden_dims)
        self.w3 = nn.Linear(hidden_dims, embed_dims)

    def forward(self, x: Tensor) -> Tensor:
        return self.w3(swiglu(self.w12(x)))


class SplitSwiGLUFFN(nn.Module):
    """DINOv3's SwiGLU FFN with separate linears: ``w3(SiLU(w1(x)) ⊙ w2(x))``."""

    def __init__(self, embed_dims: int, hidden_dims: int) -> None:
        super().__init__()
        self.w1 = nn.Linear(embed_dims, hidden_dims)
        self.w2 = nn.Linear(embed_dims, hidden_dims)
        self.w3 = nn.Linear(hidden_dims, embed_dims)

    def forward(self, x: Tensor) -> Tensor:
        return self.w3(F.silu(self.w1(x)) * self.w2(x))


class LayerScale(nn.Module):
    """Per-channel residual-branch scale ``x ⊙ γ`` (DINOv2's ``ls1``/``ls2``)."""

    def __init__(self, embed_dims: int, init_value: float = 1.0) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full((embed_dims, ), init_value))

    def forward(self, x: Tensor) -> Tensor:
        return x * self.gamma


class ViTBlock(nn.Module):
    """Pre-norm transformer block: ``x += ls1(attn(norm1(x)))``, ``x += ls2(ffn(norm2(x)))``.

    Args:
        embed_dims: Token width ``C``.
        num_heads: Attention heads.
        mlp_ratio: FFN width ratio.
        ffn_type: ``'mlp'`` (GELU MLP) or ``'swiglu'`` (DINOv2 giant, DINOv3 S+/H+/7B).
        layer_scale: Whether the residual branches carry ``LayerScale`` (DINOv2, DINOv3).
        norm_eps: LayerNorm epsilon (1e-6 in DINO / DINOv2, 1e-5 in DINOv3).
        qkv_bias: Whether ``attn.qkv`` has a bias.
        mask_k_bias: Mask the key bias (DINOv3).
        swiglu_split: SwiGLU as ``w1``/``w2``/``w3`` (DINOv3) instead of
            DINOv2's fused ``w12``/``w3``.
        swiglu_align: Multiple the SwiGLU hidden width is rounded up to.
    """

    def __init__(self, embed_dims: int, num_heads: int, mlp_ratio: float = 4.0,
                 ffn_type: str = 'mlp', layer_scale: bool = False, norm_eps: float = 1e-6,
                 qkv_bias: bool = True, mask_k_bias: bool = False, swiglu_split: bool = False,
                 swiglu_align: int = 8) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(embed_dims, eps=norm_eps)
        self.attn = Attention(embed_dims, num_heads, qkv_bias=qkv_bias, mask_k_bias=mask_k_bias)
        self.norm2 = nn.LayerNorm(embed_dims, eps=norm_eps)
        if ffn_type == 'mlp':
            self.mlp = Mlp(embed_dims, int(embed_dims * mlp_ratio))
        elif ffn_type == 'swiglu':
            hidden = swiglu_hidden_dims(embed_dims, mlp_ratio, swiglu_align)
            ffn = SplitSwiGLUFFN if swiglu_split else SwiGLUFFN
            self.mlp = ffn(embed_dims, hidden)
        else:
            raise ValueError(f"ffn_type must be 'mlp' or 'swiglu', got {ffn_type!r}.")
        self.ls1 = LayerScale(embed_dims) if layer_scale else nn.Identity()
        self.ls2 = LayerScale(embed_dims) if layer_scale else nn.Identity()

    def forward(self, x: Tensor, explicit: bool = False, keep_qkv: bool = False,
                rope: Optional[Tuple[Tensor, Tensor]] = None) -> Tuple[Tensor, AttentionExtras]:
        attn_out, extras = self.attn(self.norm1(x), explicit=explicit, keep_qkv=keep_qkv,
                                     rope=rope)
        x = x + self.ls1(attn_out)
        x = x + self.ls2(self.mlp(self.norm2(x)))
        return x, extras
