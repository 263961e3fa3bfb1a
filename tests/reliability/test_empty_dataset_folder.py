"""An empty image folder is an error naming the folder, not numpy's concatenate error."""
import pytest

from mmuss.datasets import Cityscapes27Dataset, ImageFolderDataset, Potsdam3Dataset


def test_empty_cityscapes_folder_is_named(tmp_path):
    (tmp_path / 'leftImg8bit' / 'train').mkdir(parents=True)
    (tmp_path / 'gtFine' / 'train').mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"Cityscapes27Dataset found no image ending in "
                       r"'_leftImg8bit.png' under '.*leftImg8bit/train'.*data_root"):
        Cityscapes27Dataset(data_root=str(tmp_path), pipeline=[], data_prefix=dict(
            img_path='leftImg8bit/train', seg_map_path='gtFine/train'))


def test_empty_potsdam_and_image_folders_are_named(tmp_path):
    (tmp_path / 'img').mkdir()
    with pytest.raises(FileNotFoundError, match='Potsdam3Dataset found no image.*img'):
        Potsdam3Dataset(data_root=str(tmp_path), pipeline=[],
                        data_prefix=dict(img_path='img', seg_map_path='img'))
    with pytest.raises(FileNotFoundError, match='No image .* under .*img'):
        ImageFolderDataset(data_root=str(tmp_path), pipeline=[], data_prefix=dict(img_path='img'))
