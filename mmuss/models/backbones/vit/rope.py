"""DINOv3's axial rotary position embedding (RoPE) of the patch tokens.

DINOv3 has no learned position embedding. Each patch ``(i, j)`` of an
``h×w`` grid gets the centre coordinates ``y = 2(i + ½)/n_h - 1`` and
``x = 2(j + ½)/n_w - 1`` in ``[-1, 1]`` (``n_h = h``, ``n_w = w`` for the
released models' ``'separate'`` normalisation; ``max(h, w)`` or
``min(h, w)`` for both with ``'max'`` / ``'min'``). With a head width ``d``
and the ``d/4`` periods ``T_k = base^{4k/d}`` the angles are
``θ = 2π·[y/T, x/T, y/T, x/T]`` (``d`` values), and queries and keys of the
patch tokens are rotated as ``q' = q·cos θ + rotate_half(q)·sin θ``
(class and register tokens are left as they are). The training-time
coordinate augmentations (shift, jitter, rescale) only run in training mode,
as in the official model; evaluation never sees them.
"""
import math
from typing import Optional, Tuple

import torch
import torch.nn as nn
from torch import Tensor

NORMALIZATIONS = ('separate', 'max', 'min')


def rope_periods(head_dims: int, base: float) -> Tensor:
    """The ``d/4`` periods ``T_k = base^{2k/(d/2)}``, ``k = 0..d/4-1``, in float32."""
    if head_dims % 4:
        raise ValueError(f'RoPE needs a head width divisible by 4, got {head_dims}.')
    steps = torch.arange(head_dims // 4, dtype=torch.float32)
    return base**(2 * steps / (head_dims // 2))


def patch_coordinates(height: int, width: int, normalize: str = 'separate',
                      device: Optional[torch.device] = None) -> Tensor:
    """Patch-centre coordinates ``(y, x)`` in ``[-1, 1]``, row-major, ``(h·w)×2`` float32.

    Args:
        height, width: Patch grid ``h×w``.
        normalize: ``'separate'`` divides rows by ``h`` and columns by ``w``;
            ``'max'`` / ``'min'`` divide both by ``max(h, w)`` / ``min(h, w)``.
        device: Where to create them.
    """
    if normalize not in NORMALIZATIONS:
        raise ValueError(f'normalize must be one of {NORMALIZATIONS}, got {normalize!r}.')
    span = {'separate': (height, width), 'max': (max(height, width), ) * 2,
            'min': (min(height, width), ) * 2}[normalize]
    ys = torch.arange(0.5, height, dtype=torch.float32, device=device) / span[0]
    xs = torch.arange(0.5, width, dtype=torch.float32, device=device) / span[1]
    grid = torch.stack(torch.meshgrid(ys, xs, indexing='ij'), dim=-1).flatten(0, 1)
    return 2.0 * grid - 1.0


def augment_coordinates(coords: Tensor, shift: Optional[float] = None,
                        jitter: Optional[float] = None,
                        rescale: Optional[float] = None) -> Tensor:
    """DINOv3's training-time coordinate augmentations (global RNG).

    ``coords + U(-shift, shift)`` per axis, then ``× exp(U(-ln jitter, ln jitter))``
    per axis, then ``× exp(U(-ln rescale, ln rescale))`` for both axes.
    """
    if shift is not None:
        coords = coords + torch.empty(2, device=coords.device).uniform_(-shift, shift)
    if jitter is not None:
        span = math.log(jitter)
        coords = coords * torch.empty(2, device=coords.device).uniform_(-span, span).exp()
    if rescale is not None:
        span = math.log(rescale)
        coords = coords * torch.empty(1, device=coords.device).uniform_(-span, span).exp()
    return coords


def rope_sin_cos(coords: Tensor, periods: Tensor) -> Tuple[Tensor, Tensor]:
    """``(sin θ, cos θ)``, each ``N×d``, of ``θ = 2π·[y/T, x/T, y/T, x/T]``.

    Args:
        coords: ``N×2`` patch coordinates ``(y, x)``.
        periods: ``d/4`` periods ``T``.
    """
    angles = 2 * math.pi * coords[:, :, None] / periods[None, None, :]
    angles = angles.flatten(1, 2).tile(2)
    return torch.sin(angles), torch.cos(angles)


def rotate_half(x: Tensor) -> Tensor:
    """``[x₁, x₂] → [-x₂, x₁]`` over the halves of the last axis."""
    first, second = x.chunk(2, dim=-1)
    return torch.cat((-second, first), dim=-1)


def apply_rope(x: Tensor, sin: Tensor, cos: Tensor) -> Tensor:
    """Rotate the last ``N`` tokens of ``x`` (``B×heads×(P+N)×d``): ``x·cos + rotate_half(x)·sin``.

    The ``P`` leading (class / register) tokens are returned unchanged. The
    rotation runs in the dtype of ``sin``/``cos`` (float32) and the result is
    cast back to ``x``'s dtype, as in the official model.
    """
    prefix = x.shape[-2] - sin.shape[-2]
    if prefix < 0:
        raise ValueError(f'{x.shape[-2]} tokens but RoPE for {sin.shape[-2]} patches.')
    patches = x[..., prefix:, :].to(sin.dtype)
    rotated = (patches * cos + rotate_half(patches) * sin).to(x.dtype)
    return torch.cat((x[..., :prefix, :], rotated), dim=-2)


class RopePositionEmbedding(nn.Module):
    """``(sin, cos)`` tables for an ``h×w`` patch grid (official key: ``rope_embed.periods``).

    Args:
        head_dims: Head width ``d`` (divisible by 4).
        base: Period base (100 for every released DINOv3 model).
        normalize: Coordinate normalisation (see :func:`patch_coordinates`).
        shift, jitter, rescale: Training-time augmentations (official
            models: ``rescale=2``); applied only in training mode.
    """

    def __init__(self, head_dims: int, base: float = 100.0, normalize: str = 'separate',
                 shift: Optional[float] = None, jitter: Optional[float] = None,
                 rescale: Optional[float] = None) -> None:
        super().__init__()
        if normalize not in NORMALIZATIONS:
            raise ValueError(f'rope normalize must be one of {NORMALIZATIONS}, got {normalize!r}.')
        self.base = base
        self.normalize = normalize
        self.shift, self.jitter, self.rescale = shift, jitter, rescale
        self.register_buffer('periods', rope_periods(head_dims, base), persistent=True)

    def forward(self, height: int, width: int) -> Tuple[Tensor, Tensor]:
        coords = patch_coordinates(height, width, self.normalize, self.periods.device)
        if self.training:
            coords = augment_coordinates(coords, self.shift, self.jitter, self.rescale)
        return rope_sin_cos(coords, self.periods.float())
