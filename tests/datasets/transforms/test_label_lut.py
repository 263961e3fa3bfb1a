"""LabelLUT: table lookup, ignore/error for unmapped values, bad tables."""
import numpy as np
import pytest

from mmuss.datasets.transforms import LabelLUT


def test_custom_table_maps_and_ignores():
    labels = np.array([[0, 1, 2], [7, 255, 3]], np.uint8)
    out = LabelLUT({0: 5, 1: 255, 2: 0, 255: 255}, unmapped='ignore')(
        dict(gt_seg_map=labels))['gt_seg_map']
    np.testing.assert_array_equal(out, [[5, 255, 0], [255, 255, 255]])
    assert out.dtype == np.uint8


def test_error_names_file_and_every_unmapped_value():
    labels = np.array([[0, 9, 3, 9]], np.uint8)
    lut = LabelLUT({0: 0}, unmapped='error')
    with pytest.raises(ValueError, match=r'a/b\.png: label values \[3, 9\]'):
        lut(dict(gt_seg_map=labels, seg_map_path='a/b.png'))


def test_built_in_tables_by_name():
    potsdam = LabelLUT('potsdam3')(dict(gt_seg_map=np.array([[0, 1, 2, 3, 4, 5, 255]],
                                                           np.uint8)))['gt_seg_map']
    np.testing.assert_array_equal(potsdam, [[0, 1, 2, 2, 0, 1, 255]])
    crops = LabelLUT('five_crop27')(dict(gt_seg_map=np.array([[0, 1, 27]], np.uint8)))
    np.testing.assert_array_equal(crops['gt_seg_map'], [[255, 0, 26]])
    with pytest.raises(ValueError, match=r'\[28\]'):
        LabelLUT('five_crop27')(dict(gt_seg_map=np.array([[28]], np.uint8)))
    voc = LabelLUT('super_crop21')(dict(gt_seg_map=np.array([[0, 1, 21]], np.uint8)))
    np.testing.assert_array_equal(voc['gt_seg_map'], [[255, 0, 20]])
    with pytest.raises(ValueError, match=r'\[22\]'):
        LabelLUT('super_crop21')(dict(gt_seg_map=np.array([[22]], np.uint8)))


def test_bad_tables_and_options_are_refused():
    with pytest.raises(KeyError, match='cityscapes19'):
        LabelLUT('cityscapes19')
    with pytest.raises(ValueError, match='out of range'):
        LabelLUT({3: 256})
    with pytest.raises(ValueError, match='unmapped'):
        LabelLUT({3: 1}, unmapped='drop')


def test_train_id_files_are_refused_with_the_official_files_named():
    train_ids = np.array([[0, 18, 255]], np.uint8)  # mmseg's *_labelTrainIds.png values
    for path in ('x_gtFine_labelTrainIds.png', 'x.png'):
        with pytest.raises(ValueError, match=r"official gtFine \*_labelIds.png.*_gtFine_labelIds"
                           r".*Ignoring the values would score wrong classes"):
            LabelLUT('cityscapes27', unmapped='ignore' if 'Train' in path else 'error')(
                dict(gt_seg_map=train_ids, seg_map_path=path))
    with pytest.raises(ValueError, match='official stuffthingmaps'):
        LabelLUT('cocostuff27', unmapped='ignore')(
            dict(gt_seg_map=np.array([[0]], np.uint8), seg_map_path='1_labelTrainIds.png'))
