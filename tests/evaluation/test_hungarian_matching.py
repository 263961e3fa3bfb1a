"""Hand-derived checks of the Hungarian-matched metric's pure functions."""
import numpy as np
import pytest
import torch

from mmuss.evaluation.functional import (confusion_update, hungarian_matching, identity_matching,
                                         majority_matching, scores_from_confusion)


def test_confusion_update_counts_and_ignores():
    pred = torch.tensor([[0, 1, 1], [2, 2, 0]])
    label = torch.tensor([[1, 0, 255], [0, 0, 1]])
    conf = confusion_update(pred, label, num_clusters=3, num_classes=2)
    # (pred, label) pairs, ignore dropped: (0,1) (1,0) (2,0) (2,0) (0,1)
    expected = np.array([[0, 2], [1, 0], [2, 0]])
    np.testing.assert_array_equal(conf.numpy(), expected)


def test_confusion_update_rejects_out_of_range_values():
    with pytest.raises(ValueError, match='Label value 5'):
        confusion_update(torch.tensor([0]), torch.tensor([5]), 2, 2)
    with pytest.raises(ValueError, match='cluster id 3'):
        confusion_update(torch.tensor([3]), torch.tensor([1]), 3, 2)
    with pytest.raises(ValueError, match='shape'):
        confusion_update(torch.zeros(2, 2), torch.zeros(4), 2, 2)


def test_permuted_perfect_prediction_scores_one():
    rng = np.random.default_rng(0)
    label = torch.from_numpy(rng.integers(0, 4, (20, 20)))
    perm = torch.tensor([2, 0, 3, 1])
    conf = confusion_update(perm[label], label, 4, 4).numpy()
    mapping = hungarian_matching(conf)
    np.testing.assert_array_equal(mapping[perm.numpy()], np.arange(4))
    scores = scores_from_confusion(conf, mapping)
    assert scores['aAcc'] == 1.0 and scores['mIoU'] == 1.0 and scores['mAcc'] == 1.0


def test_hand_computed_scores():
    # rows = clusters, cols = classes
    conf = np.array([[1, 8],
                     [6, 2]])
    mapping = hungarian_matching(conf)
    np.testing.assert_array_equal(mapping, [1, 0])  # 8 + 6 = 14 > 1 + 2
    s = scores_from_confusion(conf, mapping)
    # class 0: tp 6, predicted 6+2=8, labelled 1+6=7 -> IoU 6/9
    # class 1: tp 8, predicted 9, labelled 10 -> IoU 8/11
    np.testing.assert_allclose(s['IoU'], [6 / 9, 8 / 11])
    np.testing.assert_allclose(s['mIoU'], (6 / 9 + 8 / 11) / 2)
    np.testing.assert_allclose(s['Acc'], [6 / 7, 8 / 10])
    np.testing.assert_allclose(s['aAcc'], 14 / 17)


def test_absent_class_is_left_out_of_the_mean():
    # class 2 is never labelled and never predicted -> NaN IoU, excluded from the mean
    conf = np.array([[5, 0, 0], [1, 3, 0], [0, 0, 0]])
    s = scores_from_confusion(conf, identity_matching(conf))
    assert np.isnan(s['IoU'][2])
    np.testing.assert_allclose(s['mIoU'], (5 / 6 + 3 / 4) / 2)


def test_over_clustering_hungarian_leaves_extra_clusters_unmatched():
    # 3 clusters, 2 classes; cluster 2 is the smaller half of class 0
    conf = np.array([[6, 0], [0, 5], [3, 1]])
    mapping = hungarian_matching(conf)
    np.testing.assert_array_equal(mapping, [0, 1, -1])
    s = scores_from_confusion(conf, mapping)
    # class 0: tp 6, predicted 6, labelled 9 -> 6/9; class 1: tp 5, predicted 5, labelled 6 -> 5/6
    np.testing.assert_allclose(s['IoU'], [6 / 9, 5 / 6])
    np.testing.assert_allclose(s['aAcc'], 11 / 15)


def test_over_clustering_majority_merges_clusters():
    conf = np.array([[6, 0], [0, 5], [3, 1], [0, 0]])
    mapping = majority_matching(conf)
    np.testing.assert_array_equal(mapping, [0, 1, 0, -1])
    s = scores_from_confusion(conf, mapping)
    # class 0 predicted by clusters 0 and 2: tp 9, predicted 10, labelled 9 -> 9/10
    # class 1: tp 5, predicted 5, labelled 6 -> 5/6
    np.testing.assert_allclose(s['IoU'], [9 / 10, 5 / 6])
    np.testing.assert_allclose(s['aAcc'], 14 / 15)


def test_fewer_clusters_than_classes_is_refused():
    with pytest.raises(ValueError, match='num_clusters=2 < num_classes=3'):
        hungarian_matching(np.ones((2, 3)))
    with pytest.raises(ValueError, match='num_clusters == num_classes'):
        identity_matching(np.ones((3, 2)))
