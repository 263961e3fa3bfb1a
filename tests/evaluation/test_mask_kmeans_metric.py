"""K-means evaluation of mask embeddings (docs/methods/maskcontrast.md eqs. 9–11)."""
import numpy as np
import pytest
import torch

from mmuss.evaluation.functional.iou_matching import (
    iou_from_confusion,
    iou_hungarian_matching,
    mask_cluster_confusion,
)
from mmuss.evaluation.metrics import MaskKMeansMetric


def test_iou_matrix_and_matching_by_hand():
    # label 0: 6 px of class 1, 2 of class 0; label 1: 4 px of class 0
    confusion = np.array([[2, 6], [4, 0]])
    iou = iou_from_confusion(confusion)
    # IoU[0,0] = 2/(8+6-2), IoU[0,1] = 6/(8+6-6), IoU[1,0] = 4/(4+6-4), IoU[1,1] = 0
    np.testing.assert_allclose(iou, [[2 / 12, 6 / 8], [4 / 6, 0.0]])
    np.testing.assert_array_equal(iou_hungarian_matching(confusion), [1, 0])


def test_confusion_from_per_image_counts():
    fg = np.array([[0, 5, 1], [0, 0, 4], [1, 3, 0]])
    bg = np.array([[7, 0, 0], [6, 1, 0], [2, 0, 0]])
    confusion = mask_cluster_confusion(np.array([1, 0, 1]), fg, bg, num_clusters=2)
    np.testing.assert_array_equal(confusion, [[15, 1, 0], [0, 0, 4], [1, 8, 1]])


def make_samples(num_images=30, num_objects=3, dims=8, seed=0):
    rng = np.random.RandomState(seed)
    samples = []
    for i in range(num_images):
        cls = 1 + i % num_objects
        label = torch.zeros(1, 6, 6, dtype=torch.long)
        top, left = rng.randint(0, 3, size=2)
        label[0, top:top + 3, left:left + 3] = cls
        label[0, 5, 5] = 255
        direction = np.zeros(dims)
        direction[cls] = 1.0
        emb = direction + 0.02 * rng.randn(dims)
        samples.append(dict(
            mask_embedding=torch.tensor(emb / np.linalg.norm(emb), dtype=torch.float32),
            pred_sem_seg=dict(data=(label > 0) & (label != 255)),
            gt_sem_seg=dict(data=label)))
    return samples


def test_kmeans_recovers_known_clusters_exactly():
    # 3 cluster centres span a 2-d affine subspace; whitening more components would blow the
    # isotropic noise up to the signal's scale (as whitening all 32 dims does in the reference)
    metric = MaskKMeansMetric(num_clusters=3, num_classes=4, num_seeds=3, pca_dims=2)
    metric.process({}, make_samples())
    out = metric.compute_metrics(metric.results)
    assert out['mIoU'] == 100.0 and out['mIoU_std'] == 0.0 and out['aAcc'] == 100.0


def test_empty_saliency_predictions_score_background_only():
    """All objects predicted as background: background IoU 26/35, objects 0 (hand-derived)."""
    samples = make_samples(num_images=6)
    for s in samples:
        s['pred_sem_seg']['data'] = torch.zeros_like(s['pred_sem_seg']['data'], dtype=torch.bool)
    metric = MaskKMeansMetric(num_clusters=3, num_classes=4, num_seeds=1, pca_dims=None)
    metric.process({}, samples)
    # per image 35 labelled px: 26 background + 9 object, all predicted label 0
    # background IoU = 6*26 / (6*35) ; the three object classes 0
    assert metric.compute_metrics(metric.results)['mIoU'] == pytest.approx(
        round(100 * (26 / 35) / 4, 2))


def test_missing_embedding_is_a_clear_error():
    sample = make_samples(num_images=1)[0]
    del sample['mask_embedding']
    with pytest.raises(KeyError, match='mask_embedding'):
        MaskKMeansMetric(num_classes=4).process({}, [sample])
