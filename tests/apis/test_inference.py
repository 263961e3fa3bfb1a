"""mmuss.apis: init_model + inference on image files and arrays, with and without a matching."""
import json

import cv2
import numpy as np
import pytest
import torch

from ..image_folder_toys import NUM_CLUSTERS, write_images, write_tiny_config
from mmuss.apis import batches_by_shape, inference, init_model
from mmuss.apis.inference import overridden_test_cfg

SIZES = [(30, 40), (36, 50), (30, 40), (64, 48), (30, 40)]
MATCHING = dict(cluster_to_class=[2, -1, 0, 1], classes=['a', 'b', 'c'],
                palette=[[255, 0, 0], [0, 255, 0], [0, 0, 255]], iter=4)


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('apis')
    images = write_images(root / 'images', SIZES)
    cfg = write_tiny_config(root, root / 'images')
    model = init_model(str(cfg))
    plain, matched = root / 'plain.pth', root / 'matched.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {'iter': 4}}, plain)
    torch.save({'state_dict': model.state_dict(),
                'meta': {'iter': 4, 'uss_matching': MATCHING}}, matched)
    return dict(root=root, images=images, cfg=cfg, plain=plain, matched=matched)


def test_batches_group_equal_shapes_in_input_order():
    shapes = [(3, 4), (5, 6), (3, 4), (3, 4), (5, 6)]
    assert batches_by_shape(shapes, 2) == [[0, 2], [3], [1, 4]]
    assert batches_by_shape(shapes, 1) == [[0], [2], [3], [1], [4]]
    with pytest.raises(ValueError, match='batch_size'):
        batches_by_shape(shapes, 0)


def test_predictions_are_at_the_original_size_and_independent_of_batching(setup):
    model = init_model(str(setup['cfg']), str(setup['plain']))
    one = inference(model, setup['images'], batch_size=1)
    many = inference(model, setup['images'], batch_size=3)
    for (h, w), a, b in zip(SIZES, one, many, strict=True):
        assert a.pred_sem_seg.data.shape == (1, h, w)
        assert a.seg_logits.data.shape == (NUM_CLUSTERS, h, w)
        assert torch.equal(a.pred_sem_seg.data, b.pred_sem_seg.data)
        assert torch.allclose(a.seg_logits.data, b.seg_logits.data, atol=1e-5)
        assert 'pred_class_sem_seg' not in a
    assert [r.img_path for r in one] == [str(p) for p in setup['images']]


def test_array_input_matches_file_input(setup):
    model = init_model(str(setup['cfg']), str(setup['plain']))
    path = setup['images'][1]
    from_file = inference(model, path)
    from_array = inference(model, cv2.imread(str(path)))
    assert torch.equal(from_file.pred_sem_seg.data, from_array.pred_sem_seg.data)


def test_stored_matching_yields_class_ids(setup):
    model = init_model(str(setup['cfg']), str(setup['matched']))
    assert model.matching['cluster_to_class'] == MATCHING['cluster_to_class']
    result = inference(model, setup['images'][0])
    clusters = result.pred_sem_seg.data.numpy()
    lut = np.array([2, 255, 0, 1])
    np.testing.assert_array_equal(result.pred_class_sem_seg.data.numpy(), lut[clusters])


def test_matching_json_overrides_the_checkpoint(setup, tmp_path):
    path = tmp_path / 'm.json'
    path.write_text(json.dumps(dict(cluster_to_class=[0, 0, 1, 1], classes=['x', 'y'])))
    model = init_model(str(setup['cfg']), str(setup['matched']), matching=str(path))
    result = inference(model, setup['images'][0])
    expected = (result.pred_sem_seg.data >= 2).long()
    assert torch.equal(result.pred_class_sem_seg.data, expected)


def test_matching_of_the_wrong_size_names_the_file(setup, tmp_path):
    path = tmp_path / 'short.json'
    path.write_text(json.dumps(dict(cluster_to_class=[0, 1], classes=['x', 'y'])))
    with pytest.raises(ValueError, match=r'short\.json.*2 entries.*4 clusters'):
        init_model(str(setup['cfg']), str(setup['plain']), matching=str(path))


def test_stale_matching_warns(setup, tmp_path):
    ckpt = torch.load(setup['matched'], map_location='cpu')
    ckpt['meta']['iter'] = 6
    path = tmp_path / 'stale.pth'
    torch.save(ckpt, path)
    with pytest.warns(UserWarning, match='iteration 4, the weights from iteration 6'):
        init_model(str(setup['cfg']), str(path))


def test_unreadable_image_is_named(setup, tmp_path):
    model = init_model(str(setup['cfg']))
    bad = tmp_path / 'broken.jpg'
    bad.write_bytes(b'not an image')
    with pytest.raises(ValueError, match='broken.jpg'):
        inference(model, [setup['images'][0], bad])


def test_test_cfg_overrides_are_temporary(setup):
    model = init_model(str(setup['cfg']))
    with overridden_test_cfg(model, flip=True, crf=None):
        assert model.test_cfg.flip is True and 'crf' not in model.test_cfg
    assert 'flip' not in model.test_cfg and model.test_cfg.mode == 'whole'


def test_a_model_without_config_is_refused(setup):
    model = init_model(str(setup['cfg']))
    del model.cfg
    with pytest.raises(AttributeError, match='init_model'):
        inference(model, setup['images'][0])
