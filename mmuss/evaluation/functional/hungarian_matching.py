"""Pure functions of the Hungarian-matched unsupervised segmentation metric.

The matching protocols for ``num_clusters > num_classes`` are described in
``docs/methods/metric.md``.
"""
from typing import Dict, Tuple

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch import Tensor

from mmuss.utils.ignore_index import IGNORE_INDEX

UNMATCHED = -1


def confusion_update(pred: Tensor, label: Tensor, num_clusters: int, num_classes: int,
                     ignore_index: int = IGNORE_INDEX) -> Tensor:
    """Cluster × class pixel counts of one prediction.

    ``confusion[k, c] = #{p : pred(p) = k, label(p) = c, label(p) != ignore}``

    Args:
        pred: Cluster ids in ``[0, K)``, any shape.
        label: Class ids in ``[0, C)`` or ``ignore_index``, same shape.
        num_clusters: ``K``.
        num_classes: ``C``.
        ignore_index: Label never counted.

    Returns:
        ``K×C`` int64 counts (on ``pred``'s device).
    """
    if pred.shape != label.shape:
        raise ValueError(f'Prediction shape {tuple(pred.shape)} != label shape '
                         f'{tuple(label.shape)}.')
    pred, label = pred.reshape(-1).long(), label.reshape(-1).to(pred.device).long()
    size = num_clusters * num_classes
    if pred.numel() == 0:
        return pred.new_zeros((num_clusters, num_classes))
    valid = label != ignore_index
    # Range checks without boolean indexing: ignored pixels read as class 0.
    lo, hi = torch.aminmax(torch.where(valid, label, 0))
    if lo < 0 or hi >= num_classes:
        raise ValueError(f'Label value {int(lo) if lo < 0 else int(hi)} is outside '
                         f'[0, {num_classes}) and is not ignore_index={ignore_index}.')
    lo, hi = torch.aminmax(pred)
    if lo < 0 or hi >= num_clusters:
        raise ValueError(f'Predicted cluster id {int(lo) if lo < 0 else int(hi)} is outside '
                         f'[0, num_clusters={num_clusters}).')
    # Ignored pixels go to one overflow bin, dropped afterwards.
    index = torch.where(valid, pred * num_classes + label, size)
    counts = torch.bincount(index, minlength=size + 1)[:size]
    return counts.reshape(num_clusters, num_classes)


def hungarian_matching(confusion: np.ndarray) -> np.ndarray:
    """One-to-one cluster→class assignment maximising matched pixels.

    ``argmax_{σ injective} Σ_k confusion[k, σ(k)]`` solved by
    ``scipy.optimize.linear_sum_assignment(maximize=True)`` over the whole
    ``K×C`` matrix (``K >= C``); the ``K - C`` clusters left over stay
    unmatched (``-1``).

    Returns:
        ``(K,)`` int array: class of each cluster or ``-1``.
    """
    num_clusters, num_classes = confusion.shape
    if num_clusters < num_classes:
        raise ValueError(f'num_clusters={num_clusters} < num_classes={num_classes}: '
                         f'a one-to-one matching would leave classes unmatched.')
    rows, cols = linear_sum_assignment(confusion, maximize=True)
    mapping = np.full(num_clusters, UNMATCHED, dtype=np.int64)
    mapping[rows] = cols
    return mapping


def majority_matching(confusion: np.ndarray) -> np.ndarray:
    """Many-to-one assignment for over-clustering: each cluster → its most frequent class.

    Clusters that never fire stay unmatched (``-1``).
    """
    mapping = confusion.argmax(axis=1).astype(np.int64)
    mapping[confusion.sum(axis=1) == 0] = UNMATCHED
    return mapping


def hungarian_then_majority_matching(confusion: np.ndarray) -> np.ndarray:
    """Hungarian one-to-one matching, then each unmatched cluster → its most frequent class.

    PriMaPs' protocol: ``σ`` from :func:`hungarian_matching`; every cluster it
    leaves unmatched takes ``argmax_c confusion[k, c]``. Unmatched clusters
    that never fire stay ``-1`` (they hold no pixel).

    Returns:
        ``(K,)`` int array: class of each cluster or ``-1``.
    """
    mapping = hungarian_matching(confusion)
    majority = majority_matching(confusion)
    return np.where(mapping == UNMATCHED, majority, mapping)


def drop_unmatched(confusion: np.ndarray, mapping: np.ndarray) -> np.ndarray:
    """The confusion without the pixels of unmatched clusters (STEGO/HP's over-clustering rule).

    ``confusion'[k] = confusion[k]`` if ``mapping[k] >= 0`` else ``0``: those
    pixels count neither as hits nor as misses, and leave the aAcc and Acc
    denominators.
    """
    return np.where((mapping >= 0)[:, None], confusion, 0)


def identity_matching(confusion: np.ndarray) -> np.ndarray:
    """No matching: cluster ``k`` is class ``k`` (a supervised probe's output)."""
    num_clusters, num_classes = confusion.shape
    if num_clusters != num_classes:
        raise ValueError(f"matching='none' needs num_clusters == num_classes, got "
                         f'{num_clusters} and {num_classes}.')
    return np.arange(num_classes, dtype=np.int64)


MATCHINGS = dict(
    hungarian=hungarian_matching,
    hungarian_drop_unmatched=hungarian_matching,
    hungarian_then_majority=hungarian_then_majority_matching,
    majority=majority_matching,
    none=identity_matching)


def match_and_score(confusion: np.ndarray,
                    matching: str = 'hungarian') -> Tuple[np.ndarray, Dict[str, np.ndarray]]:
    """Cluster→class mapping and scores of a ``K×C`` confusion under one protocol.

    - ``'hungarian'``: one-to-one; pixels of unmatched clusters are misses;
    - ``'hungarian_drop_unmatched'``: one-to-one; pixels of unmatched
      clusters are dropped (:func:`drop_unmatched`), as STEGO/HP;
    - ``'hungarian_then_majority'``: one-to-one, then unmatched clusters to
      their majority class, as PriMaPs;
    - ``'majority'``: every cluster to its majority class;
    - ``'none'``: identity (supervised probes, ``K = C``).

    With ``K = C`` the three Hungarian protocols coincide.

    Returns:
        ``(mapping, scores)``: ``(K,)`` class per cluster (``-1``: none) and
        :func:`scores_from_confusion`'s dict.
    """
    if matching not in MATCHINGS:
        raise ValueError(f'matching={matching!r} is not one of {sorted(MATCHINGS)}.')
    mapping = MATCHINGS[matching](confusion)
    if matching == 'hungarian_drop_unmatched':
        confusion = drop_unmatched(confusion, mapping)
    return mapping, scores_from_confusion(confusion, mapping)


def scores_from_confusion(confusion: np.ndarray, mapping: np.ndarray) -> Dict[str, np.ndarray]:
    """aAcc, per-class IoU/Acc and their means after mapping clusters to classes.

    With ``H[c', c]`` the pixels predicted as class ``c'`` (through ``mapping``)
    whose label is ``c``, and pixels of unmatched clusters counted as missed:

    - ``IoU_c = H[c,c] / (Σ_c' H[c,c'] + Σ_k confusion[k,c] − H[c,c])``;
      NaN when class ``c`` is neither labelled nor predicted;
    - ``mIoU = mean of the non-NaN IoU_c`` (the references' reduction);
    - ``Acc_c = H[c,c] / Σ_k confusion[k,c]``; ``mAcc`` its non-NaN mean;
    - ``aAcc = Σ_c H[c,c] / Σ confusion`` (pixel accuracy over labelled pixels).

    Args:
        confusion: ``K×C`` counts.
        mapping: ``(K,)`` class per cluster, ``-1`` for unmatched.

    Returns:
        Dict with ``aAcc`` (scalar), ``IoU``/``Acc`` (``(C,)``), ``mIoU``, ``mAcc``.
    """
    num_classes = confusion.shape[1]
    confusion = confusion.astype(np.float64)
    matched = mapping >= 0
    pred_by_class = np.zeros((num_classes, num_classes))
    np.add.at(pred_by_class, mapping[matched], confusion[matched])
    tp = np.diag(pred_by_class)
    labelled = confusion.sum(axis=0)
    predicted = pred_by_class.sum(axis=1)
    with np.errstate(divide='ignore', invalid='ignore'):
        iou = tp / (predicted + labelled - tp)
        acc = tp / labelled
    total = confusion.sum()
    return dict(
        aAcc=tp.sum() / total if total else np.nan,
        IoU=iou,
        Acc=acc,
        mIoU=np.nanmean(iou) if np.isfinite(iou).any() else np.nan,
        mAcc=np.nanmean(acc) if np.isfinite(acc).any() else np.nan)
