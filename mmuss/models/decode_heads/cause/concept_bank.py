"""CAUSE's concept bank: recent EMA embeddings stored per clusterbook concept."""
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import all_gather, get_dist_info
from torch import Tensor


def bank_selection(codes: Tensor, scores: Tensor, keep_ratio: float,
                   capacity: int) -> Tuple[Tensor, Tensor, Tensor]:
    """Which new keys enter the bank, and in which order.

    Per concept ``k`` with ``n_k`` new keys, the ``⌊keep_ratio·n_k⌋`` keys of
    lowest ``score`` are kept (a random half for uniform scores; a concept
    with a single key adds nothing, as in the reference), in ascending score
    order; of those only the last ``capacity`` can survive in the bank.

    Args:
        codes: ``N`` concept index of every new key.
        scores: ``N`` random priorities.
        keep_ratio: Fraction kept per concept (0.5).
        capacity: Bank slots per concept.

    Returns:
        ``(index, rank, kept)``: indices into the new keys of the surviving
        keys, their rank ``t`` among the concept's kept keys, and ``kept``
        ``n'_k = ⌊keep_ratio·n_k⌋`` per concept (length ``max(codes) + 1``).
    """
    by_score = torch.argsort(scores)
    order = by_score[torch.argsort(codes[by_score], stable=True)]
    sorted_codes = codes[order]
    counts = torch.bincount(codes)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.arange(len(order), device=codes.device) - starts[sorted_codes]
    kept = torch.floor(counts.double() * keep_ratio).long()
    limit = kept[sorted_codes]
    survive = (rank < limit) & (rank >= limit - capacity)
    return order[survive], rank[survive], kept


class ConceptBank(nn.Module):
    """Per-concept ring buffers of unit EMA embeddings (CAUSE's ``prime_bank``).

    Buffers (saved in checkpoints, so resumed runs continue with the same
    bank): ``keys`` ``K×S×P`` (float16, as the reference's autocast stores
    them), ``length`` and ``head`` (next write slot) per concept, and
    ``step``, the number of updates, which seeds the random choice of kept
    keys. Under DDP every rank adds the keys of all ranks with the same
    choice, so the banks stay identical.

    Args:
        num_concepts: ``K``.
        capacity: ``S`` slots per concept (100).
        dims: Embedding width ``P``.
        keep_ratio: Fraction of a concept's new keys kept per update (0.5).
        seed: Base seed of the kept-key choice.
    """

    def __init__(self, num_concepts: int, capacity: int, dims: int, keep_ratio: float = 0.5,
                 seed: int = 0) -> None:
        super().__init__()
        self.keep_ratio = keep_ratio
        self.seed = seed
        self.register_buffer('keys', torch.zeros(num_concepts, capacity, dims,
                                                 dtype=torch.float16))
        self.register_buffer('length', torch.zeros(num_concepts, dtype=torch.long))
        self.register_buffer('head', torch.zeros(num_concepts, dtype=torch.long))
        self.register_buffer('step', torch.zeros((), dtype=torch.long))

    @property
    def capacity(self) -> int:
        return self.keys.shape[1]

    def entries(self) -> Tuple[Tensor, Tensor]:
        """All ``K·S`` slots (``(K·S)×P`` view, float16) and their concepts, ``-1`` if empty."""
        valid = torch.arange(self.capacity, device=self.length.device)[None] < self.length[:, None]
        concepts = torch.arange(self.keys.shape[0], device=valid.device)[:, None].expand_as(valid)
        return self.keys.flatten(0, 1), torch.where(valid, concepts, -1).flatten()

    @torch.no_grad()
    def update(self, codes: Tensor, keys: Tensor) -> None:
        """Add ``N`` keys (``N×P``) with concept indices ``codes`` (``N``), from every rank."""
        if get_dist_info()[1] > 1:
            codes = torch.cat(all_gather(codes.contiguous()))
            keys = torch.cat(all_gather(keys.contiguous()))
        gen = torch.Generator().manual_seed(self.seed + int(self.step))
        scores = torch.rand(codes.shape[0], generator=gen).to(codes.device)
        index, rank, kept = bank_selection(codes, scores, self.keep_ratio, self.capacity)
        concepts = codes[index]
        slots = (self.head[concepts] + rank) % self.capacity
        self.keys[concepts, slots] = F.normalize(keys[index].float(), dim=1).to(self.keys.dtype)
        touched = torch.arange(kept.shape[0], device=kept.device)
        self.head[touched] = (self.head[touched] + kept) % self.capacity
        self.length[touched] = (self.length[touched] + kept).clamp_max(self.capacity)
        self.step += 1
