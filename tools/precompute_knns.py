"""Nearest neighbours of each training image in feature space (docs/methods/stego.md eq. 11).

``python tools/precompute_knns.py CONFIG [--split train] [--out FILE]`` runs the
config's frozen backbone over a split with its pipeline, global-average-pools
the last feature map, L2-normalises it, and keeps for every image the indices
of its ``--topk`` most cosine-similar images of the same split (rank 0 is
normally the image itself). Similarities are computed in row chunks, so memory
stays at ``chunk × N`` however large the split. Under ``--launcher pytorch``
each rank encodes and ranks its own shard and rank 0 writes the table; the
feature dropout of sample ``i`` is drawn from a generator seeded with
``(--seed, i)``, so the table does not depend on the number of processes.

The table goes where the config reads it: the ``knn_file`` of the split's
:class:`KNNPairDataset` (``--out`` overrides it). The ``.npz`` holds ``nns``
(``N×topk`` int64), ``ids`` (the sample ids, see
:func:`mmuss.datasets.knn_pair_dataset.sample_id`), which
:class:`KNNPairDataset` checks against the dataset it wraps, and ``manifest``
(JSON: tool version, config settings, seed, checkpoint SHA-256). It is written
atomically (temporary file, then rename). A progress bar and logs go to
stderr; stdout gets one line naming the file.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.dist import all_gather, get_dist_info, init_dist
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint, set_random_seed
from mmseg.registry import DATASETS, MODELS
from torch import Tensor
from tqdm import tqdm

import mmuss  # noqa: F401  (registers components)
from mmuss.apis.tool_output import logs_to_stderr
from mmuss.datasets.cached_artefacts import make_manifest
from mmuss.utils.fileio import atomic_write
from mmuss.utils.cfg_options import merge_cfg_options
from mmuss.datasets.knn_pair_dataset import sample_id
from mmuss.utils import setup_cpu_distributed
from mmuss.utils.run_setup import (add_launch_args, add_trust_checkpoint_arg, parse_tool_args,
                                   teardown_distributed)

TOOL_VERSION = 2  # bump when the tables this tool writes change


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Precompute KNN partners for STEGO')
    parser.add_argument('config', help='config whose model and dataset to use')
    parser.add_argument('--split', choices=['train', 'val', 'test'], default='train')
    parser.add_argument('--out', help="output .npz (default: the knn_file the split's "
                        'KNNPairDataset reads, else <data_root>/nns/nns_<config>_<split>.npz)')
    parser.add_argument('--checkpoint', help='optional checkpoint to load into the model')
    parser.add_argument('--topk', type=int, default=30)
    parser.add_argument('--chunk-size', type=int, default=1024,
                        help='query rows per similarity chunk (memory: chunk × N)')
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--num-workers', type=int, default=2)
    parser.add_argument('--feature-dropout', type=float, default=0.1,
                        help='channel dropout on the features before pooling; STEGO leaves its '
                        'featurizer in train mode, which applies p=0.1 (0 disables)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    add_trust_checkpoint_arg(parser)
    add_launch_args(parser)
    return parse_tool_args(parser, argv)


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


def shard_bounds(num: int, rank: int, world_size: int) -> Tuple[int, int]:
    """Contiguous ``[start, end)`` of rank ``rank``'s shard of ``num`` items."""
    per_rank = -(-num // world_size)
    return min(rank * per_rank, num), min((rank + 1) * per_rank, num)


def gather_rows(rows: Tensor, num_total: int) -> Tensor:
    """Concatenate every rank's contiguous shard of rows (padded for the collective)."""
    _, world_size = get_dist_info()
    if world_size == 1:
        return rows
    per_rank = -(-num_total // world_size)
    padded = rows.new_zeros((per_rank, *rows.shape[1:]))
    padded[:rows.shape[0]] = rows
    return torch.cat(all_gather(padded))[:num_total]


def default_out(cfg: Config, config: str, split: str) -> str:
    """Where the table goes: the ``knn_file`` the split's :class:`KNNPairDataset` reads (one name
    for writer and reader), else ``<data_root>/nns/nns_<config name>_<split>.npz``."""
    dataset = cfg[f'{split}_dataloader']['dataset']
    if dataset.get('type') == 'KNNPairDataset':
        return dataset['knn_file']
    name = osp.splitext(osp.basename(config))[0]
    return osp.join(split_dataset_cfg(cfg, split).get('data_root', '.'), 'nns',
                    f'nns_{name}_{split}.npz')


def split_dataset_cfg(cfg: Config, split: str) -> dict:
    """The dataset config of a split, unwrapping :class:`KNNPairDataset`."""
    loader = cfg.get(f'{split}_dataloader')
    if not loader:
        raise KeyError(f'{split}_dataloader is not defined in the config.')
    dataset = loader['dataset']
    while dataset.get('type') == 'KNNPairDataset':
        dataset = dataset['dataset']
    return dataset


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
        raise ValueError(f'No samples to encode in shard {indices[:1]}…; use fewer processes '
                         f'than samples.')
    return torch.cat(out)


def main(argv: Optional[List[str]] = None) -> Optional[str]:
    """Compute and save the table; returns its path on rank 0."""
    args = parse_args(argv)
    logs_to_stderr()
    cfg = merge_cfg_options(Config.fromfile(args.config), args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    if args.launcher != 'none' and torch.cuda.is_available():
        init_dist(args.launcher, backend='nccl')
    setup_cpu_distributed(cfg, args.launcher)  # gloo process group on CPU-only machines
    rank, world_size = get_dist_info()
    set_random_seed(args.seed)  # identical (random-init) weights on every rank

    dataset_cfg = split_dataset_cfg(cfg, args.split)
    dataset = DATASETS.build(dataset_cfg)
    model = MODELS.build(cfg.model)
    model.init_weights()
    if args.checkpoint:
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.to(args.device).eval()

    num = len(dataset)
    start, end = shard_bounds(num, rank, world_size)
    shard = encode(model, dataset, list(range(start, end)), args.batch_size, args.num_workers,
                   args.feature_dropout, args.device, args.seed, progress=rank == 0)
    descriptors = gather_rows(shard.to(args.device), num)
    nns = gather_rows(knn_table(descriptors[start:end], descriptors, args.topk,
                                args.chunk_size), num).cpu().numpy()

    out = None
    if rank == 0:
        out = args.out or default_out(cfg, args.config, args.split)
        os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
        ids = np.array([sample_id(dataset.get_data_info(i)) for i in range(num)])
        settings = dict(model=cfg.model, pipeline=dataset_cfg.get('pipeline'), split=args.split,
                        topk=args.topk, feature_dropout=args.feature_dropout)
        manifest = make_manifest('precompute_knns', TOOL_VERSION, args.config, settings,
                                 args.checkpoint, args.seed)
        atomic_write(out, lambda tmp: np.savez(tmp, nns=nns, ids=ids,
                                               manifest=np.array(json.dumps(manifest))), '.npz')
        print(f'Saved {nns.shape} nearest neighbours of {num} {args.split} samples to {out}')
    teardown_distributed()
    return out


if __name__ == '__main__':
    main()
