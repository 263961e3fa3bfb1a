"""A label outside the classes at train time names the value and the label file."""
import cv2
import numpy as np
import pytest

from mmuss.datasets import ImageFolderDataset


def test_out_of_range_label_names_value_and_file(tmp_path):
    (tmp_path / 'img').mkdir()
    (tmp_path / 'ann').mkdir()
    for stem, value in (('good', 2), ('bad', 9)):
        cv2.imwrite(str(tmp_path / 'img' / f'{stem}.png'), np.full((16, 16, 3), 90, np.uint8))
        labels = np.full((16, 16), value, np.uint8)
        labels[0, 0] = 255  # the ignore index is always allowed
        cv2.imwrite(str(tmp_path / 'ann' / f'{stem}.png'), labels)
    dataset = ImageFolderDataset(
        data_root=str(tmp_path), metainfo=dict(classes=('a', 'b', 'c')),
        data_prefix=dict(img_path='img', seg_map_path='ann'),
        pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                  dict(type='RandomFlip', prob=0.5), dict(type='PackSegInputs')])
    names = [dataset.get_data_info(i)['img_path'] for i in range(2)]
    bad, good = (0, 1) if names[0].endswith('bad.png') else (1, 0)
    assert dataset[good]['data_samples'].gt_sem_seg.data.max() == 255
    with pytest.raises(ValueError, match=r'ann/bad.png: label values \[9\] are outside \[0, 3\)'):
        dataset[bad]
