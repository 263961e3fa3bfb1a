"""Saliency loading and MaskContrast's two-view generation keep image and mask aligned."""
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.datasets import BaseSegDataset

import mmuss  # noqa: F401

REPO = Path(__file__).resolve().parents[3]
init_default_scope('mmseg')


def write_pair(root, name, img, saliency):
    (root / 'images').mkdir(exist_ok=True)
    (root / 'saliency').mkdir(exist_ok=True)
    cv2.imwrite(str(root / 'images' / f'{name}.png'), img)
    cv2.imwrite(str(root / 'saliency' / f'{name}.png'), saliency)
    return str(root / 'images' / f'{name}.png')


def object_image(mask: np.ndarray, seed: int = 0) -> np.ndarray:
    """Image whose channel 0 is 255 exactly on the object and < 255 elsewhere."""
    rng = np.random.RandomState(seed)
    img = rng.randint(0, 255, mask.shape + (3, )).astype(np.uint8)
    img[..., 0] = np.where(mask > 0, 255, rng.randint(0, 200, mask.shape))
    return img


def load(saliency_dir='saliency', **kw):
    return dict(type='LoadSaliencyMask', saliency_dir=saliency_dir, **kw)


def test_views_masks_cover_exactly_the_object_pixels(tmp_path):
    mask = np.zeros((40, 48), np.uint8)
    mask[8:30, 10:34] = 1
    mask[30:36, 20:26] = 1
    path = write_pair(tmp_path, 'a', object_image(mask), mask * 255)
    pipeline = Compose([
        dict(type='LoadImageFromFile'), load(min_component_fraction=0.0),
        dict(type='MaskContrastViews', min_foreground=0.0, max_foreground=1.0, view_pipeline=[
            dict(type='SegRandomResizedCrop', crop_size=(12, 16), scale=(0.2, 1.0),
                 interpolation='nearest'),
            dict(type='RandomFlip', prob=0.5)])
    ])
    flips = set()
    for seed in range(25):
        np.random.seed(seed)
        out = pipeline(dict(img_path=path))
        views = ((out['img'], out['gt_saliency']), (out['key_img'], out['gt_key_saliency']))
        for img, sal in views:
            assert img.shape[:2] == sal.shape == (12, 16)
            np.testing.assert_array_equal(sal, (img[..., 0] == 255).astype(np.uint8))
        flips.add(out['flip'])
    assert flips == {True, False}


def test_full_crop_resize_and_flip_by_hand(tmp_path):
    mask = np.zeros((8, 8), np.uint8)
    mask[1:5, 2:7] = 1
    path = write_pair(tmp_path, 'b', object_image(mask), mask * 255)
    pipeline = Compose([
        dict(type='LoadImageFromFile'), load(min_component_fraction=0.0),
        dict(type='MaskContrastViews', view_pipeline=[
            dict(type='SegRandomResizedCrop', crop_size=4, scale=(1.0, 1.0), ratio=(1.0, 1.0)),
            dict(type='RandomFlip', prob=1.0)])
    ])
    out = pipeline(dict(img_path=path))
    # whole image, nearest 8 -> 4 keeps rows/cols 0, 2, 4, 6; then a horizontal flip
    expected = mask[::2, ::2][:, ::-1]
    np.testing.assert_array_equal(out['gt_saliency'], expected)
    np.testing.assert_array_equal(out['gt_key_saliency'], expected)
    assert out['crop_bbox'] == (0, 0, 8, 8)


def test_threshold_small_components_and_red_channel(tmp_path):
    sal = np.zeros((20, 20, 3), np.uint8)
    sal[2:12, 2:12, 2] = 255  # red channel (cv2 is BGR): a 100-pixel object
    sal[15, 15, 2] = 255  # 1 pixel < 1 % of 400: erased
    sal[2:12, 14:18, 2] = 254  # below the 255 threshold: background
    sal[18:20, 0:20, 0] = 255  # blue channel only: ignored
    path = write_pair(tmp_path, 'c', np.zeros((20, 20, 3), np.uint8), sal)
    out = Compose([dict(type='LoadImageFromFile'), load()])(dict(img_path=path))
    expected = np.zeros((20, 20), np.uint8)
    expected[2:12, 2:12] = 1
    np.testing.assert_array_equal(out['gt_saliency'], expected)
    assert 'gt_saliency' in out['seg_fields']
    out = Compose([dict(type='LoadImageFromFile'), load(threshold=128)])(dict(img_path=path))
    assert out['gt_saliency'][2:12, 14:18].all()


def test_missing_saliency_mask_names_the_image(tmp_path):
    (tmp_path / 'images').mkdir()
    img = str(tmp_path / 'images' / 'lonely.png')
    cv2.imwrite(img, np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(FileNotFoundError, match=r'lonely\.png.*saliency[/\\]lonely\.png'):
        Compose([dict(type='LoadImageFromFile'), load()])(dict(img_path=img))


def test_empty_mask_is_rejected_and_dataset_draws_another_image(tmp_path):
    full = np.zeros((16, 16), np.uint8)
    full[4:12, 4:12] = 1
    write_pair(tmp_path, 'empty', object_image(np.zeros((16, 16), np.uint8)), full * 0)
    write_pair(tmp_path, 'good', object_image(full), full * 255)
    views = dict(type='MaskContrastViews', view_pipeline=[
        dict(type='SegRandomResizedCrop', crop_size=8, scale=(0.9, 1.0))])
    ds = BaseSegDataset(data_root=str(tmp_path), data_prefix=dict(img_path='images'),
                        img_suffix='.png', pipeline=[
                            dict(type='LoadImageFromFile'), load(), views,
                            dict(type='PackMultiViewSegInputs',
                                 pixel_keys=['gt_saliency', 'gt_key_saliency'])])
    names = [ds.get_data_info(i)['img_path'] for i in range(len(ds))]
    empty = names.index(str(tmp_path / 'images' / 'empty.png'))
    assert Compose([dict(type='LoadImageFromFile'), load(), views])(
        dict(img_path=names[empty])) is None
    sample = ds[empty]['data_samples']
    assert sample.img_path.endswith('good.png')
    assert sample.key_img.shape == (3, 8, 8)
    assert sample.gt_saliency.data.shape == sample.gt_key_saliency.data.shape == (1, 8, 8)
    assert sample.gt_saliency.data.sum() > 0


def test_spec_view_pipeline_with_photometric_augmentations_builds_and_runs(tmp_path):
    mask = np.zeros((30, 30), np.uint8)
    mask[5:25, 5:25] = 1
    path = write_pair(tmp_path, 'd', object_image(mask), mask * 255)
    cfg = Config.fromfile(str(REPO / 'configs' / '_base_' / 'datasets' / 'pascal_voc_saliency.py'))
    views = [dict(t, crop_size=16) if t['type'] == 'SegRandomResizedCrop' else t
             for t in cfg.view_pipeline]
    out = Compose([dict(type='LoadImageFromFile'), load(),
                   dict(type='MaskContrastViews', view_pipeline=views)])(dict(img_path=path))
    assert out['img'].shape == out['key_img'].shape == (16, 16, 3)


def test_color_jitter_brightness_scales_pixels_within_range():
    seen = set()
    for seed in range(10):
        np.random.seed(seed)
        out = Compose([dict(type='ColorJitter', brightness=0.5)])(
            dict(img=np.full((2, 2, 3), 100, np.uint8)))['img']
        assert (out == out[0, 0, 0]).all() and 50 <= out[0, 0, 0] <= 150
        seen.add(int(out[0, 0, 0]))
    assert len(seen) > 3
