"""tools/dataset_converters/five_crop.py: STEGO's five crops, order, size and files."""
import importlib.util
import os.path as osp
import sys

import numpy as np
import pytest
from PIL import Image

REPO = osp.join(osp.dirname(__file__), '..', '..')
CONFIG = osp.join(REPO, 'configs', '_base_', 'datasets', 'cityscapes27.py')


@pytest.fixture(scope='module')
def five_crop():
    path = osp.join(REPO, 'tools', 'dataset_converters', 'five_crop.py')
    spec = importlib.util.spec_from_file_location('five_crop', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_boxes_in_torchvision_order(five_crop):
    # 7×10 image, ratio 0.5 → 3×5 crops; centre offsets round(4/2)=2, round(5/2)=2 (half to even)
    assert five_crop.five_crop_boxes(7, 10, 0.5) == [
        (0, 0, 3, 5), (0, 5, 3, 5), (4, 0, 3, 5), (4, 5, 3, 5), (2, 2, 3, 5)]
    # Cityscapes: 1024×2048 → 512×1024 crops
    assert five_crop.five_crop_boxes(1024, 2048, 0.5) == [
        (0, 0, 512, 1024), (0, 1024, 512, 1024), (512, 0, 512, 1024), (512, 1024, 512, 1024),
        (256, 512, 512, 1024)]
    with pytest.raises(ValueError, match='ratio'):
        five_crop.five_crop_boxes(1, 10, 0.5)


def test_tool_writes_stego_layout(tmp_path, five_crop, monkeypatch):
    rng = np.random.default_rng(0)
    sources = []
    for name in ('aachen_000000_000019', 'bremen_000000_000019'):
        city = name.split('_')[0]
        rgb = rng.integers(0, 256, (9, 12, 3), dtype=np.uint8)
        ids = rng.integers(0, 34, (9, 12), dtype=np.uint8)
        for sub, array, suffix in (('leftImg8bit', rgb, '_leftImg8bit.png'),
                                   ('gtFine', ids, '_gtFine_labelIds.png')):
            (tmp_path / sub / 'train' / city).mkdir(parents=True, exist_ok=True)
            Image.fromarray(array).save(tmp_path / sub / 'train' / city / (name + suffix))
        sources.append((rgb, ids))
    monkeypatch.setattr(sys, 'argv', [
        'five_crop.py', CONFIG, '--split', 'train', '--name', 'cityscapes', '--data-root',
        str(tmp_path)])
    five_crop.main()
    out = tmp_path / 'cropped' / 'cityscapes_five_crop_0.5'
    # 9×12, ratio 0.5 → 4×6 crops at (0,0), (0,6), (5,0), (5,6), centre (round(2.5)=2, 3)
    offsets = [(0, 0), (0, 6), (5, 0), (5, 6), (2, 3)]
    for i, (rgb, ids) in enumerate(sources):
        for j, (top, left) in enumerate(offsets):
            label = np.asarray(Image.open(out / 'label' / 'train' / f'{i * 5 + j}.png'))
            crop_ids = ids[top:top + 4, left:left + 6].astype(int)
            np.testing.assert_array_equal(label, np.where(crop_ids >= 7, crop_ids - 6, 0))
            jpg = Image.open(out / 'img' / 'train' / f'{i * 5 + j}.jpg')
            assert jpg.format == 'JPEG' and jpg.size == (6, 4)
            reference = tmp_path / 'reference.jpg'
            Image.fromarray(rgb[top:top + 4, left:left + 6]).save(reference, 'JPEG')
            np.testing.assert_array_equal(np.asarray(jpg), np.asarray(Image.open(reference)))
    assert len(list((out / 'img' / 'train').iterdir())) == 10


def test_shifted_labels(five_crop):
    labels = np.array([[0, 26, 255]], np.uint8)
    np.testing.assert_array_equal(five_crop.shifted_labels(labels), [[1, 27, 0]])
    with pytest.raises(ValueError, match='254'):
        five_crop.shifted_labels(np.array([[254]], np.uint8))
