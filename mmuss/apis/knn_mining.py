"""Nearest neighbours of each image in feature space (docs/methods/stego.md eq. 11).

The frozen backbone's last feature map of every image is global-average-pooled
and L2-normalised; each image keeps the indices of its ``topk`` most
cosine-similar images of the same dataset (rank 0 is normally the image
itself). The feature dropout of sample ``i`` is drawn from a generator seeded
with ``(seed, i)`` and each rank encodes its strided shard
(:func:`mmuss.apis.offline_pass.strided_shard`), so the table does not depend
on the number of processes. ``tools/precompute_knns.py`` runs it.
"""
import sys
from typing import List, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dataset import pseudo_collate
from torch import Tensor
from tqdm import tqdm

from .offline_pass import gather_strided, strided_shard


def pooled_descriptors(feats: Tensor) -> Tensor:
    """``B×C×h×w`` feature maps → ``B×C`` unit vectors ``normalize(mean_{h,w} feats)``."""
    return F.normalize(feats.mean(dim=(2, 3)), dim=1)


def sample_channel_dropout(feats: Tensor, p: float, indices: Sequence[int], seed: int) -> Tensor:
    """Channel dropout (``dropout2d``) whose mask for sample ``i`` depends on ``(seed, i)`` only.

    Each channel of sample ``indices[b]`` is kept with probability ``1 - p`` and
    then scaled by ``1 / (1 - p)``; the mask does not depend on the batch or
    the process that encodes the sample.

    Args:
        feats: ``B×C×h×w`` features.
        p: Drop probability in ``[0, 1)``.
        indices: Dataset index of each of the ``B`` samples.
        seed: Base seed.

    Returns:
        ``B×C×h×w`` features.
    """
    if p <= 0:
        return feats
    masks = []
    for index in indices:
        generator = torch.Generator().manual_seed((seed * 1_000_003 + int(index)) % 2**63)
        masks.append(torch.rand(feats.shape[1], generator=generator) >= p)
    keep = torch.stack(masks).to(feats.device, feats.dtype)[:, :, None, None]
    return feats * keep / (1 - p)


def knn_table(queries: Tensor, keys: Tensor, k: int, chunk_size: int = 1024) -> Tensor:
    """Indices of the ``k`` keys most similar to each query, most similar first.

    Similarity is the dot product (cosine for unit vectors), computed
    ``chunk_size`` query rows at a time, so peak memory is ``chunk_size × M``.

    Args:
        queries: ``Q×C`` descriptors.
        keys: ``M×C`` descriptors.
        k: Neighbours per query (``<= M``).
        chunk_size: Query rows per chunk.

    Returns:
        ``Q×k`` int64 indices into ``keys``.
    """
    if k > keys.shape[0]:
        raise ValueError(f'Cannot take {k} neighbours among {keys.shape[0]} samples; '
                         f'lower --topk.')
    return torch.cat([(queries[i:i + chunk_size] @ keys.T).topk(k, dim=1).indices
                      for i in range(0, queries.shape[0], chunk_size)]).long()


@torch.no_grad()
def encode(model: torch.nn.Module, dataset, indices: List[int], batch_size: int,
           num_workers: int, dropout: float, device: str, seed: int = 0,
           progress: bool = False) -> Tensor:
    """Pooled descriptors of ``dataset[indices]`` (dropout per :func:`sample_channel_dropout`)."""
    loader = torch.utils.data.DataLoader(
        torch.utils.data.Subset(dataset, indices), batch_size=batch_size, shuffle=False,
        num_workers=num_workers, collate_fn=pseudo_collate)
    out = []
    for start, batch in zip(range(0, len(indices), batch_size),
                            tqdm(loader, desc='KNN descriptors', unit='batch', file=sys.stderr,
                                 disable=not progress, dynamic_ncols=True)):
        data = model.data_preprocessor(batch, False)
        feats = model.extract_feat(data['inputs'].to(device)).last
        feats = sample_channel_dropout(feats, dropout, indices[start:start + batch_size], seed)
        out.append(pooled_descriptors(feats.float()).cpu())
    if not out:
        raise ValueError('No samples to encode: use fewer processes than samples.')
    return torch.cat(out)


def mine_knns(model: torch.nn.Module, dataset, topk: int, chunk_size: int, batch_size: int,
              num_workers: int, dropout: float, device: str, seed: int, rank: int,
              world_size: int) -> np.ndarray:
    """The ``N×topk`` int64 table of ``dataset``; every rank computes its shard's rows."""
    num = len(dataset)
    mine = list(strided_shard(num, rank, world_size))
    shard = encode(model, dataset, mine, batch_size, num_workers, dropout, device, seed,
                   progress=rank == 0)
    descriptors = gather_strided(shard.to(device), num)
    rows = knn_table(descriptors[mine], descriptors, topk, chunk_size)
    return gather_strided(rows, num).cpu().numpy()
