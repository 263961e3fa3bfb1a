"""Segment retrieval (docs/methods/maskcontrast.md eq. 12) on hand-made prototypes and counts."""
import numpy as np
import pytest

from mmuss.evaluation.functional.segment_retrieval import (
    VOC_RETRIEVAL_DROPPED,
    keep_classes,
    majority_labels,
    retrieve_labels,
)

from ..tools.conftest import load_tool

tool = load_tool('maskcontrast_retrieval')


def test_majority_labels_skip_background_only_regions():
    fg = np.array([[9, 1, 3], [5, 0, 0], [0, 2, 2], [0, 0, 0]])
    np.testing.assert_array_equal(majority_labels(fg), [2, -1, 1, -1])


def test_retrieve_uses_nearest_labelled_bank_entry():
    bank = np.array([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]])
    labels = retrieve_labels(np.array([[0.9, 0.1], [0.2, 0.8]]), bank, np.array([4, 7, -1]))
    np.testing.assert_array_equal(labels, [4, 7])
    with pytest.raises(ValueError, match='memory bank is empty'):
        retrieve_labels(bank, bank, np.array([-1, -1, -1]))


def test_retrieval_miou_by_hand():
    bank = (np.eye(3)[1:], np.array([[3, 10, 0], [0, 0, 8]]), None)
    queries = (np.array([[0.0, 0.1, 0.9], [0.0, 0.9, 0.1]]),
               np.array([[1, 0, 5], [0, 4, 0]]), np.array([[20, 0, 0], [10, 2, 0]]))
    # q0 -> class 2, q1 -> class 1; IoU0 = 30/33, IoU1 = 4/6, IoU2 = 5/6
    expected = round((30 / 33 + 4 / 6 + 5 / 6) / 3 * 100, 2)
    assert tool.retrieval_miou(bank, queries, 3) == expected
    # dropping class 2: its pixels vanish, so the second bank image has no label and both
    # queries retrieve class 1; q0's salient background pixel becomes a false positive:
    # IoU1 = 4 / (5 + 6 - 4), background left out of the mean
    assert tool.retrieval_miou(bank, queries, 3, (2, )) == round(4 / 7 * 100, 2)


def test_seven_class_variant_keeps_the_reference_classes():
    kept = sorted(set(range(21)) - set(VOC_RETRIEVAL_DROPPED))
    # background, aeroplane, bottle, bus, car, cat, cow, person
    assert kept == [0, 1, 5, 6, 7, 8, 10, 15]
    counts = keep_classes(np.ones((1, 21), np.int64), VOC_RETRIEVAL_DROPPED)
    assert counts.sum() == 8
