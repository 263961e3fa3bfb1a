"""An annotation whose size differs from its image is an error naming both files."""
import cv2
import numpy as np
import pytest

from mmuss.datasets import Cityscapes27Dataset, ImageFolderDataset


def write_pair(root, image_dir, label_dir, stem, image_hw, label_hw, image_suffix='.png',
               label_suffix='.png', label_value=7):
    (root / image_dir).mkdir(parents=True, exist_ok=True)
    (root / label_dir).mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(root / image_dir / f'{stem}{image_suffix}'),
                np.full((*image_hw, 3), 100, np.uint8))
    cv2.imwrite(str(root / label_dir / f'{stem}{label_suffix}'),
                np.full(label_hw, label_value, np.uint8))


def test_cityscapes_pair_of_different_sizes_names_the_label_file(tmp_path):
    write_pair(tmp_path, 'leftImg8bit/train/aachen', 'gtFine/train/aachen', 'aachen_0',
               (32, 64), (32, 60), '_leftImg8bit.png', '_gtFine_labelIds.png')
    dataset = Cityscapes27Dataset(
        data_root=str(tmp_path), data_prefix=dict(img_path='leftImg8bit/train',
                                                  seg_map_path='gtFine/train'),
        pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                  dict(type='LabelLUT', mapping='cityscapes27'),
                  dict(type='RandomCrop', crop_size=(16, 16)), dict(type='PackSegInputs')])
    with pytest.raises(ValueError, match=r'aachen_0_gtFine_labelIds.png is 32x60 but its image '
                       r'.*aachen_0_leftImg8bit.png is 32x64'):
        dataset[0]


def test_image_folder_pair_of_different_sizes_is_refused_at_build_time(tmp_path):
    write_pair(tmp_path, 'img', 'ann', 'a', (20, 30), (20, 30))
    write_pair(tmp_path, 'img', 'ann', 'b', (20, 30), (30, 20))
    with pytest.raises(ValueError, match=r"Label map '.*ann/b.png' is 30x20 but its image "
                       r"'.*img/b.png' is 20x30"):
        ImageFolderDataset(data_root=str(tmp_path), pipeline=[], metainfo=dict(classes=('x', )),
                           data_prefix=dict(img_path='img', seg_map_path='ann'))
