"""tools/infer.py on a folder of generated images: label PNGs and overlays at the original size."""
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch

from ..image_folder_toys import NUM_CLUSTERS, load_tool, write_images, write_tiny_config
from mmuss.apis import init_model

infer_tool = load_tool('infer')
SIZES = [(30, 40), (36, 50), (64, 48)]
MATCHING = dict(cluster_to_class=[2, -1, 0, 1], classes=['a', 'b', 'c'],
                palette=[[255, 0, 0], [0, 255, 0], [0, 0, 255]])


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('infer')
    images = write_images(root / 'photos', SIZES[:2])
    images += write_images(root / 'photos' / 'sub', SIZES[2:], seed=1, suffix='.JPG')
    (root / 'photos' / 'corrupt.jpg').write_bytes(b'\xff\xd8 this is not a jpeg')
    cfg = write_tiny_config(root, root / 'photos')
    state = init_model(str(cfg)).state_dict()
    plain, matched = root / 'plain.pth', root / 'matched.pth'
    torch.save({'state_dict': state, 'meta': {'iter': 4}}, plain)
    torch.save({'state_dict': state, 'meta': {'iter': 4, 'uss_matching': MATCHING}}, matched)
    return dict(root=root, cfg=str(cfg), plain=str(plain), matched=str(matched))


def read(path):
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert image is not None, path
    return image


def test_folder_gives_one_label_png_and_overlay_per_image_and_reports_the_corrupt_one(
        setup, tmp_path, capsys):
    out = tmp_path / 'out'
    status = infer_tool.main([setup['cfg'], setup['plain'], str(setup['root'] / 'photos'),
                              '--out', str(out), '--batch-size', '2'])
    assert status == 1
    err = capsys.readouterr().err
    assert 'corrupt.jpg' in err and 'img0' not in err
    names = ['img0', 'img1', 'sub/img0']
    assert sorted(p.relative_to(out / 'labels').as_posix() for p in (out / 'labels').rglob('*.png')
                  ) == sorted(f'{n}.png' for n in names)
    assert sorted(p.relative_to(out / 'overlays').as_posix()
                  for p in (out / 'overlays').rglob('*.jpg')) == sorted(f'{n}.jpg' for n in names)
    for name, (h, w) in zip(names, SIZES, strict=True):
        labels = read(out / 'labels' / f'{name}.png')
        assert labels.shape == (h, w) and labels.dtype == np.uint8
        assert labels.max() < NUM_CLUSTERS
        assert read(out / 'overlays' / f'{name}.jpg').shape == (h, w, 3)


def test_stored_matching_gives_class_ids(setup, tmp_path):
    glob = str(setup['root'] / 'photos' / 'img*.png')
    clusters, classes = tmp_path / 'clusters', tmp_path / 'classes'
    assert infer_tool.main([setup['cfg'], setup['matched'], glob, '--out', str(clusters),
                            '--clusters']) == 0
    assert infer_tool.main([setup['cfg'], setup['matched'], glob, '--out', str(classes),
                            '--opacity', '1', '--no-names']) == 0
    lut = np.array([2, 255, 0, 1], np.uint8)
    for name in ('img0', 'img1'):
        cluster_ids = read(clusters / 'labels' / f'{name}.png')
        np.testing.assert_array_equal(read(classes / 'labels' / f'{name}.png'), lut[cluster_ids])


def test_single_image_and_palette_option(setup, tmp_path):
    image = setup['root'] / 'photos' / 'img1.png'
    assert infer_tool.main([setup['cfg'], setup['plain'], str(image), '--out', str(tmp_path),
                            '--palette', 'cityscapes']) == 0
    assert read(tmp_path / 'labels' / 'img1.png').shape == SIZES[1]
    with pytest.raises(ValueError, match='not_a_dataset'):
        infer_tool.label_names_and_palette(init_model(setup['cfg']), False, 'not_a_dataset')
    many = SimpleNamespace(matching=dict(cluster_to_class=list(range(30)), palette=[],
                                         classes=[f'c{i}' for i in range(30)]))
    with pytest.raises(ValueError, match='cityscapes has 19 colours for 30 labels'):
        infer_tool.label_names_and_palette(many, True, 'cityscapes')


def test_bad_inputs_are_named(setup, tmp_path):
    with pytest.raises(FileNotFoundError, match='nothing_here'):
        infer_tool.main([setup['cfg'], setup['plain'], str(tmp_path / 'nothing_here' / '*.png'),
                         '--out', str(tmp_path)])
    (tmp_path / 'a.png').write_bytes(b'')
    (tmp_path / 'a.jpg').write_bytes(b'')
    with pytest.raises(ValueError, match=r'a\.(png|jpg) and .*a\.(png|jpg)'):
        infer_tool.output_stems([str(tmp_path / 'a.png'), str(tmp_path / 'a.jpg')], str(tmp_path))
