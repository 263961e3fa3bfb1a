"""Nearest neighbours of each training image in feature space (docs/methods/stego.md eq. 11).

``python tools/precompute_knns.py CONFIG [--split train] [--out FILE]`` runs the
config's frozen backbone over a split with its pipeline, global-average-pools
the last feature map, L2-normalises it, and keeps for every image the indices
of its ``--topk`` most cosine-similar images of the same split
(:mod:`mmuss.apis.knn_mining`). Similarities are computed in row chunks, so
memory stays at ``chunk × N`` however large the split. Under ``--launcher
pytorch`` rank ``r`` encodes and ranks images ``r, r + world_size, …`` with the
config's ``env_cfg.dist_cfg`` timeout (:mod:`mmuss.apis.offline_pass`) and rank
0 writes the table; the table does not depend on the number of processes.

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
import os.path as osp
from typing import List, Optional

import numpy as np
import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmseg.registry import DATASETS, MODELS

import mmuss  # noqa: F401  (registers components)
from mmuss.apis.knn_mining import mine_knns
from mmuss.apis.offline_pass import OfflinePass, offline_pass
from mmuss.apis.tool_output import logs_to_stderr
from mmuss.datasets.cached_artefacts import make_manifest
from mmuss.datasets.knn_pair_dataset import sample_id
from mmuss.models.utils.wiring import with_built_sizes
from mmuss.utils.fileio import atomic_write
from mmuss.apis.tool_args import add_launch_args, add_trust_checkpoint_arg, parse_tool_args

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


def main(argv: Optional[List[str]] = None) -> Optional[str]:
    """Compute and save the table; returns its path on rank 0."""
    args = parse_args(argv)
    logs_to_stderr()
    with offline_pass(args, args.seed) as run:
        return write_table(args, run)


def write_table(args: argparse.Namespace, run: OfflinePass) -> Optional[str]:
    """Mine the table of ``args.split``; rank 0 writes it and returns its path."""
    cfg = run.cfg
    dataset_cfg = split_dataset_cfg(cfg, args.split)
    dataset = DATASETS.build(dataset_cfg)
    model = MODELS.build(cfg.model)
    model.init_weights()
    if args.checkpoint:
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.to(args.device).eval()

    num = len(dataset)
    nns = mine_knns(model, dataset, args.topk, args.chunk_size, args.batch_size,
                    args.num_workers, args.feature_dropout, args.device, args.seed, run.rank,
                    run.world_size)
    if run.rank != 0:
        return None
    out = args.out or default_out(cfg, args.config, args.split)
    ids = np.array([sample_id(dataset.get_data_info(i)) for i in range(num)])
    settings = dict(model=with_built_sizes(cfg.model, model),
                    pipeline=dataset_cfg.get('pipeline'), split=args.split, topk=args.topk,
                    feature_dropout=args.feature_dropout)
    manifest = make_manifest('precompute_knns', TOOL_VERSION, args.config, settings,
                             args.checkpoint, args.seed)
    atomic_write(out, lambda tmp: np.savez(tmp, nns=nns, ids=ids,
                                           manifest=np.array(json.dumps(manifest))), '.npz')
    print(f'Saved {nns.shape} nearest neighbours of {num} {args.split} samples to {out}')
    return out


if __name__ == '__main__':
    main()
