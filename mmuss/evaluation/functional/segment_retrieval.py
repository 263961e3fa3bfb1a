"""Pure steps of MaskContrast's segment-retrieval evaluation (docs/methods/maskcontrast.md)."""
from typing import Sequence

import numpy as np

# VOC classes whose ground truth the 7-class variant sets to ignore
VOC_RETRIEVAL_DROPPED = (2, 3, 4, 9, 11, 12, 13, 14, 16, 17, 18, 19, 20)


def keep_classes(counts: np.ndarray, dropped: Sequence[int]) -> np.ndarray:
    """Per-image class counts with the ``dropped`` classes' pixels removed (GT set to ignore)."""
    counts = counts.copy()
    counts[:, list(dropped)] = 0
    return counts


def majority_labels(fg_counts: np.ndarray, background: int = 0) -> np.ndarray:
    """Memory-bank label of each image: its most frequent class inside the salient region.

    Background (and ignored pixels, already absent from the counts) do not
    vote; an image with no other labelled salient pixel gets ``-1`` (skipped).

    Args:
        fg_counts: ``N×C`` class counts inside each image's predicted salient region.
        background: The background class.

    Returns:
        ``(N,)`` labels or ``-1``.
    """
    votes = fg_counts.copy()
    votes[:, background] = 0
    labels = votes.argmax(axis=1)
    labels[votes.sum(axis=1) == 0] = -1
    return labels


def retrieve_labels(queries: np.ndarray, bank: np.ndarray, bank_labels: np.ndarray) -> np.ndarray:
    """Label of each query's nearest bank prototype by dot product (``argmax_j ⟨q_i, b_j⟩``).

    Bank entries labelled ``-1`` are left out.
    """
    valid = bank_labels >= 0
    if not valid.any():
        raise ValueError('The retrieval memory bank is empty: no bank image has a labelled '
                         'salient region.')
    return bank_labels[valid][(queries @ bank[valid].T).argmax(axis=1)]


def retrieval_confusion(labels: np.ndarray, fg_counts: np.ndarray, bg_counts: np.ndarray,
                        num_classes: int, background: int = 0) -> np.ndarray:
    """``C×C`` predicted-class × class pixel counts of the retrieval predictions.

    Image ``i`` paints ``labels[i]`` on its salient pixels and ``background``
    elsewhere.
    """
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(confusion, labels, fg_counts)
    confusion[background] += bg_counts.sum(axis=0)
    return confusion
