"""The cluster→class matching record stored with checkpoints and used at inference.

A *matching record* is a plain dict (JSON-serialisable)::

    dict(cluster_to_class=[c_0, ..., c_{K-1}],   # class of cluster k, -1 = unmatched
         classes=['name_0', ..., 'name_{C-1}'],  # class names of the evaluation set
         palette=[[r, g, b], ...],               # one colour per class
         protocol='hungarian',                   # the metric's matching (optional)
         iter=..., epoch=...)                    # when the evaluation ran (optional)

An unmatched cluster has no class whatever the protocol did with its pixels
when scoring (counted as misses, or dropped): inference paints it
``ignore_index`` (docs/methods/metric.md).

:class:`~mmuss.engine.hooks.ClusterMatchingHook` writes it into
``checkpoint['meta'][CHECKPOINT_META_KEY]`` and into a JSON file;
:func:`mmuss.apis.init_model` reads it back.
"""
import json
import os.path as osp
from typing import Optional, Sequence

import torch
from torch import Tensor

from .fileio import atomic_write_json
from .ignore_index import IGNORE_INDEX

CHECKPOINT_META_KEY = 'uss_matching'
MATCHING_INFO_KEY = 'uss/matching'
MATCHING_JSON = 'cluster_to_class.json'


def clusters_to_classes(cluster_map: Tensor, cluster_to_class: Sequence[int],
                        ignore_index: int = IGNORE_INDEX) -> Tensor:
    """Class map of a cluster map: ``class(p) = M[cluster(p)]``, ``ignore_index`` if ``M = -1``.

    Args:
        cluster_map: Integer cluster ids in ``[0, K)``, any shape.
        cluster_to_class: ``M``, ``K`` class ids, ``-1`` for unmatched clusters.
        ignore_index: Value given to pixels of unmatched clusters.

    Returns:
        Long tensor of ``cluster_map``'s shape and device.
    """
    lut = torch.as_tensor(list(cluster_to_class), dtype=torch.long, device=cluster_map.device)
    ids = cluster_map.long()
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= lut.numel()):
        raise ValueError(f'Cluster id {int(ids.max())} is outside the matching of '
                         f'{lut.numel()} clusters.')
    lut = torch.where(lut >= 0, lut, torch.full_like(lut, ignore_index))
    return lut[ids]


def check_matching(record: dict, num_clusters: Optional[int] = None,
                   source: str = 'matching') -> dict:
    """Validate a matching record; returns it with plain-list values.

    Raises a ``ValueError`` naming ``source`` when a key is missing, the
    number of clusters differs from ``num_clusters``, or a class id is out of
    range.
    """
    if not isinstance(record, dict) or 'cluster_to_class' not in record:
        raise ValueError(f'{source}: expected a dict with a "cluster_to_class" list.')
    mapping = [int(c) for c in record['cluster_to_class']]
    classes = [str(c) for c in record.get('classes') or []]
    if num_clusters is not None and len(mapping) != num_clusters:
        raise ValueError(f'{source}: cluster_to_class has {len(mapping)} entries but the model '
                         f'predicts {num_clusters} clusters.')
    bad = [c for c in mapping if c < -1 or (classes and c >= len(classes))]
    if bad:
        raise ValueError(f'{source}: class id {bad[0]} is outside [-1, {len(classes)}).')
    palette = [list(map(int, p)) for p in record.get('palette') or []]
    if palette and len(palette) != len(classes):
        raise ValueError(f'{source}: {len(palette)} palette colours for {len(classes)} classes.')
    return dict(record, cluster_to_class=mapping, classes=classes, palette=palette)


def matching_from_checkpoint(checkpoint: dict) -> Optional[dict]:
    """The matching record in a loaded checkpoint's meta, or ``None``."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    return (meta or {}).get(CHECKPOINT_META_KEY)


def load_matching_json(path: str, num_clusters: Optional[int] = None) -> dict:
    """Read and validate a matching record written by :func:`save_matching_json`."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'Matching file {path!r} does not exist.')
    with open(path, encoding='utf-8') as f:
        try:
            record = json.load(f)
        except json.JSONDecodeError as exc:
            raise ValueError(f'Matching file {path!r} is not valid JSON: {exc}') from exc
    return check_matching(record, num_clusters, source=path)


def save_matching_json(record: dict, path: str) -> None:
    """Write a matching record as JSON, atomically."""
    atomic_write_json(path, record, indent=1)
