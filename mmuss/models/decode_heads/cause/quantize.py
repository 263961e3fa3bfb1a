"""CAUSE's concept quantisation and grid sampling of patch features."""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def codeword_indices(feats: Tensor, codebook: Tensor) -> Tensor:
    """Index of the most cosine-similar codeword of every patch.

    ``q(i) = argmax_k <f_i/||f_i||, c_k/||c_k||>`` (CAUSE, concept assignment).

    Args:
        feats: ``B×D×h×w`` patch features.
        codebook: ``K×D`` concept clusterbook.

    Returns:
        ``B×h×w`` long indices in ``[0, K)``. One image at a time, so only a
        ``K×h·w`` score matrix exists at once.
    """
    unit_codebook = F.normalize(codebook.to(feats), dim=1)
    return torch.stack([(unit_codebook @ F.normalize(image.flatten(1), dim=0)).argmax(dim=0)
                        for image in feats]).reshape(feats.shape[0], *feats.shape[2:])


def codewords(codebook: Tensor, indices: Tensor) -> Tensor:
    """The codewords ``c_{q(i)}`` of ``B×h×w`` indices: ``B×D×h×w``."""
    return codebook[indices].permute(0, 3, 1, 2).contiguous()


def quantise(feats: Tensor, codebook: Tensor) -> Tensor:
    """Every patch replaced by its codeword, ``f_i -> c_{q(i)}``: ``B×D×h×w`` -> ``B×D×h×w``."""
    return codewords(codebook.to(feats), codeword_indices(feats, codebook))


def grid_order(batch: int, height: int, width: int, stride: int,
               generator: Optional[torch.Generator] = None) -> Tensor:
    """A random position ``0 <= o < stride²`` in every ``stride×stride`` grid cell.

    Returns ``B×(h//s)×(w//s)`` long positions (row-major inside a cell), drawn
    uniformly on the CPU (``generator`` or torch's global RNG).
    """
    return torch.randint(stride * stride, (batch, height // stride, width // stride),
                         generator=generator)


def grid_positions(order: Tensor, width: int, stride: int) -> Tensor:
    """Flat index ``row · w + col`` of the patch :func:`grid_sample` keeps in each cell.

    ``B×(h//s)×(w//s)`` :func:`grid_order` -> ``B×(h//s)×(w//s)`` long indices
    into the row-major ``h·w`` patches of a map ``width`` patches wide.
    """
    _, gh, gw = order.shape
    rows = stride * torch.arange(gh, device=order.device)[None, :, None] + order // stride
    cols = stride * torch.arange(gw, device=order.device)[None, None, :] + order % stride
    return rows * width + cols


def grid_sample(maps: Tensor, order: Tensor, stride: int) -> Tensor:
    """One patch per ``stride×stride`` cell: ``B×C×h×w`` -> ``B×C×(h//s)×(w//s)``.

    CAUSE's "grid" sampling (``stochastic_sampling``): cell ``(u, v)`` keeps
    the patch ``(s·u + o // s, s·v + o % s)`` with ``o = order[b, u, v]``;
    rows and columns beyond the last full cell are dropped. Applying the same
    ``order`` to several maps keeps them aligned.
    """
    b, c, h, w = maps.shape
    gh, gw = h // stride, w // stride
    if order.shape != (b, gh, gw):
        raise ValueError(f'Grid order of shape {tuple(order.shape)} does not fit maps of shape '
                         f'{tuple(maps.shape)} with stride {stride} (expected {(b, gh, gw)}).')
    flat = grid_positions(order.to(maps.device), w, stride).flatten(1)
    picked = maps.flatten(2).gather(2, flat[:, None, :].expand(b, c, -1))
    return picked.reshape(b, c, gh, gw)


def random_grid_sample(maps: Tensor, stride: int,
                       generator: Optional[torch.Generator] = None) -> Tuple[Tensor, Tensor]:
    """:func:`grid_sample` at a fresh :func:`grid_order`; returns ``(samples, order)``."""
    b, _, h, w = maps.shape
    order = grid_order(b, h, w, stride, generator)
    return grid_sample(maps, order, stride), order
