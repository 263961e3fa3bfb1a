"""Cached mask ids follow the image through geometric transforms and get packed."""
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import TRANSFORMS
from PIL import Image


@pytest.fixture
def sample(tmp_path):
    init_default_scope('mmseg')
    ids = np.full((4, 6), 255, np.uint8)
    ids[:, :2] = 1
    ids[0, 5] = 2
    Image.fromarray(ids).save(tmp_path / 'img_0001.png')
    image = np.zeros((4, 6, 3), np.uint8)
    image[:, :2] = 200
    results = dict(img_path=str(tmp_path / 'images' / 'img_0001.jpg'), img=image,
                   img_shape=(4, 6), ori_shape=(4, 6), gt_seg_map=np.zeros((4, 6), np.uint8),
                   seg_fields=['gt_seg_map'])
    load = TRANSFORMS.build(dict(type='LoadPrimapsMasks', proposal_root=str(tmp_path)))
    return load(results), ids


def test_flip_moves_the_mask_ids_with_the_image(sample):
    results, ids = sample
    assert results['seg_fields'] == ['gt_seg_map', 'gt_primaps']
    flipped = TRANSFORMS.build(dict(type='RandomFlip', prob=1.0, direction='horizontal'))(results)
    assert np.array_equal(flipped['gt_primaps'], ids[:, ::-1])
    assert (flipped['img'][:, -2:] == 200).all() and (flipped['gt_primaps'][:, -2:] == 1).all()


def test_crop_and_resize_move_the_mask_ids(sample):
    results, ids = sample
    results = TRANSFORMS.build(dict(type='Resize', scale=(12, 8), keep_ratio=False))(results)
    assert results['gt_primaps'].shape == (8, 12)
    assert np.array_equal(results['gt_primaps'], np.kron(ids, np.ones((2, 2), np.uint8)))


def test_pack_adds_mask_ids_and_student_view(sample):
    results, ids = sample
    results.update(img_student=results['img'] + 1, view_fields=['img_student'])
    packed = TRANSFORMS.build(
        dict(type='PackMultiViewSegInputs', pixel_keys=['gt_primaps']))(results)
    data_sample = packed['data_samples']
    assert data_sample.gt_primaps.data.shape == (1, 4, 6)
    assert data_sample.gt_primaps.data[0].numpy().tolist() == ids.astype(int).tolist()
    assert tuple(data_sample.img_student.shape) == (3, 4, 6)
    with pytest.raises(KeyError, match='gt_primaps'):
        TRANSFORMS.build(dict(type='PackMultiViewSegInputs', pixel_keys=['gt_primaps']))(
            dict(img=results['img'], img_path='x', seg_fields=[]))
