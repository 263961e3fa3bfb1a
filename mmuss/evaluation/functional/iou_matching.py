"""IoU-based Hungarian matching and the K-means protocol of docs/methods/maskcontrast.md."""
from typing import Optional

import numpy as np
from scipy.optimize import linear_sum_assignment


def iou_from_confusion(confusion: np.ndarray) -> np.ndarray:
    """Dataset-level IoU of every (predicted label, class) pair.

    ``IoU[k, c] = n_kc / max(Σ_c' n_kc' + Σ_k' n_k'c − n_kc, 1e-8)`` for the
    ``K×C`` pixel counts ``n`` (labels ``ignore`` already removed).
    """
    confusion = confusion.astype(np.float64)
    union = confusion.sum(axis=1, keepdims=True) + confusion.sum(axis=0, keepdims=True) - confusion
    return confusion / np.maximum(union, 1e-8)


def iou_hungarian_matching(confusion: np.ndarray) -> np.ndarray:
    """One-to-one label→class assignment maximising the summed IoU.

    ``argmax_σ Σ_k IoU[k, σ(k)]`` by ``scipy.optimize.linear_sum_assignment``
    (MaskContrast matches by IoU, not by pixel counts,
    docs/methods/maskcontrast.md Q8); every label, background included, is
    matched like any other. Labels left over when ``K > C`` stay unmatched
    (``-1``).

    Returns:
        ``(K,)`` int array: class of each predicted label or ``-1``.
    """
    num_labels, num_classes = confusion.shape
    if num_labels < num_classes:
        raise ValueError(f'{num_labels} predicted labels < {num_classes} classes: a one-to-one '
                         f'matching would leave classes unmatched.')
    rows, cols = linear_sum_assignment(iou_from_confusion(confusion), maximize=True)
    mapping = np.full(num_labels, -1, dtype=np.int64)
    mapping[rows] = cols
    return mapping


def mask_cluster_confusion(assignments: np.ndarray, fg_counts: np.ndarray, bg_counts: np.ndarray,
                           num_clusters: int) -> np.ndarray:
    """``(K+1)×C`` pixel counts of the K-means prediction maps, from per-image counts.

    Image ``i`` predicts label ``a_i + 1`` on its salient pixels and ``0``
    elsewhere, so ``n[0] = Σ_i bg_i`` and ``n[k+1] = Σ_{i: a_i = k} fg_i``.

    Args:
        assignments: ``(N,)`` cluster of each image in ``[0, K)``.
        fg_counts: ``N×C`` class counts inside each image's salient region.
        bg_counts: ``N×C`` class counts outside it.
        num_clusters: ``K``.

    Returns:
        ``(K+1)×C`` int64 counts.
    """
    confusion = np.zeros((num_clusters + 1, fg_counts.shape[1]), dtype=np.int64)
    confusion[0] = bg_counts.sum(axis=0)
    np.add.at(confusion, assignments + 1, fg_counts)
    return confusion


def cluster_mask_embeddings(embeddings: np.ndarray, num_clusters: int, seed: int,
                            pca_dims: Optional[int] = 32, batch_size: int = 1000,
                            n_init: int = 3) -> np.ndarray:
    """Whitening PCA then MiniBatchKMeans over per-image embeddings (MaskContrast K-means, step 3).

    ``PCA(n_components=min(pca_dims, N, D), whiten=True)`` (skipped when
    ``pca_dims`` is ``None``), then ``MiniBatchKMeans(num_clusters,
    batch_size, random_state=seed, n_init)``; ``n_init=3`` was scikit-learn
    0.23's default, which the reference ran.

    Returns:
        ``(N,)`` cluster ids.
    """
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.decomposition import PCA
    x = embeddings.astype(np.float64)
    if pca_dims is not None:
        x = PCA(n_components=min(pca_dims, *x.shape), whiten=True).fit_transform(x)
    kmeans = MiniBatchKMeans(n_clusters=num_clusters, batch_size=batch_size, random_state=seed,
                             n_init=n_init)
    return kmeans.fit_predict(x)
