"""The over-clustering protocols (K > C), each scored by hand on small confusion matrices."""
import numpy as np
import pytest
import torch

from mmuss.evaluation.metrics import HungarianIoUMetric
from mmuss.evaluation.functional import match_and_score
from mmuss.utils.cluster_matching import clusters_to_classes

# rows = 4 clusters, cols = 3 classes; labelled per class: 15, 11, 10 (36 pixels)
CONF = np.array([[10, 2, 0],
                 [1, 8, 1],
                 [0, 1, 6],
                 [4, 0, 3]])
# Hungarian: 0→0, 1→1, 2→2 (10 + 8 + 6 = 24; any use of cluster 3 scores less); 3 unmatched


def test_strict_hungarian_counts_unmatched_pixels_as_misses():
    mapping, s = match_and_score(CONF, 'hungarian')
    np.testing.assert_array_equal(mapping, [0, 1, 2, -1])
    # IoU = tp / (predicted + labelled - tp): 10/(12+15-10), 8/(10+11-8), 6/(7+10-6)
    np.testing.assert_allclose(s['IoU'], [10 / 17, 8 / 13, 6 / 11])
    np.testing.assert_allclose(s['aAcc'], 24 / 36)
    np.testing.assert_allclose(s['Acc'], [10 / 15, 8 / 11, 6 / 10])


def test_drop_unmatched_leaves_their_pixels_out():
    mapping, s = match_and_score(CONF, 'hungarian_drop_unmatched')
    np.testing.assert_array_equal(mapping, [0, 1, 2, -1])
    # cluster 3's 7 pixels are gone: labelled 11, 11, 7 (29 pixels)
    np.testing.assert_allclose(s['IoU'], [10 / 13, 8 / 13, 6 / 8])
    np.testing.assert_allclose(s['mIoU'], (10 / 13 + 8 / 13 + 6 / 8) / 3)
    np.testing.assert_allclose(s['aAcc'], 24 / 29)
    np.testing.assert_allclose(s['Acc'], [10 / 11, 8 / 11, 6 / 7])


def test_then_majority_gives_unmatched_clusters_their_majority_class():
    mapping, s = match_and_score(CONF, 'hungarian_then_majority')
    np.testing.assert_array_equal(mapping, [0, 1, 2, 0])  # cluster 3: 4 > 3 > 0
    # class 0 predicted by clusters 0 and 3: tp 14, predicted 19, labelled 15
    np.testing.assert_allclose(s['IoU'], [14 / 20, 8 / 13, 6 / 11])
    np.testing.assert_allclose(s['aAcc'], 28 / 36)


# Hungarian 0→0, 1→1, 2→2 (5 + 3 + 2 = 10 > 5 + 2 + 2 with 3→1); but cluster 1's majority is 0
CONF2 = np.array([[5, 0, 0],
                  [4, 3, 0],
                  [0, 0, 2],
                  [0, 2, 1]])


def test_then_majority_differs_from_plain_majority():
    mapping, s = match_and_score(CONF2, 'hungarian_then_majority')
    np.testing.assert_array_equal(mapping, [0, 1, 2, 1])
    # labelled 9, 5, 3. class 1 from clusters 1 and 3: tp 3+2, predicted 7+3
    np.testing.assert_allclose(s['IoU'], [5 / 9, 5 / 10, 2 / 3])
    np.testing.assert_allclose(s['aAcc'], 12 / 17)
    mapping, s = match_and_score(CONF2, 'majority')
    np.testing.assert_array_equal(mapping, [0, 0, 2, 1])
    # class 0 from clusters 0 and 1: tp 9, predicted 12; class 1 from cluster 3: tp 2, pred 3
    np.testing.assert_allclose(s['IoU'], [9 / 12, 2 / 6, 2 / 3])
    np.testing.assert_allclose(s['aAcc'], 13 / 17)


def test_with_as_many_clusters_as_classes_the_hungarian_protocols_agree():
    conf = CONF[:3]
    scores = [match_and_score(conf, m)[1]['mIoU']
              for m in ('hungarian', 'hungarian_drop_unmatched', 'hungarian_then_majority')]
    assert scores[0] == scores[1] == scores[2]


def test_unknown_protocol_is_named():
    with pytest.raises(ValueError, match="'stego'"):
        match_and_score(CONF, 'stego')
    with pytest.raises(ValueError, match='hungarian_drop_unmatched'):
        HungarianIoUMetric(matching='stego')


@pytest.mark.parametrize('matching,miou', [
    ('hungarian', (10 / 17 + 8 / 13 + 6 / 11) / 3),
    ('hungarian_drop_unmatched', (10 / 13 + 8 / 13 + 6 / 8) / 3),
    ('hungarian_then_majority', (14 / 20 + 8 / 13 + 6 / 11) / 3),
])
def test_metric_reports_each_protocol(matching, miou):
    pred = np.repeat(np.arange(4), CONF.sum(axis=1))
    label = np.concatenate([np.repeat(np.arange(3), row) for row in CONF])
    metric = HungarianIoUMetric(num_classes=3, num_clusters=4, matching=matching)
    half = len(pred) // 2  # two samples: the counts are summed before matching
    for part in (slice(0, half), slice(half, None)):
        metric.process({}, [dict(pred_sem_seg=dict(data=torch.from_numpy(pred[part])[None]),
                                 gt_sem_seg=dict(data=torch.from_numpy(label[part])[None]))])
    result = metric.compute_metrics(metric.results)
    assert result['mIoU'] == pytest.approx(miou * 100, abs=0.005)
    # at inference a cluster without class (-1) is painted ignore_index
    classes = clusters_to_classes(torch.arange(4), metric.cluster_to_class)
    assert classes.tolist() == ([0, 1, 2, 0] if matching == 'hungarian_then_majority'
                                else [0, 1, 2, 255])
