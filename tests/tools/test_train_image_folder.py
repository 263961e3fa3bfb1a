"""tools/train.py on a folder of unlabelled images (no label file anywhere), then tools/infer.py."""
import cv2
import pytest
import torch

from ..image_folder_toys import NUM_CLUSTERS, load_tool, write_images, write_tiny_config

train_tool = load_tool('train')
infer_tool = load_tool('infer')
SIZES = [(40, 48), (36, 50), (48, 40), (32, 64), (40, 40), (50, 36)]


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp('folder_training')
    write_images(root / 'photos', SIZES[:4], seed=5, suffix='.jpg')
    write_images(root / 'photos' / 'more', SIZES[4:], seed=6)
    cfg = write_tiny_config(root, root / 'photos')
    runner = train_tool.main([str(cfg), '--work-dir', str(root / 'work'), '--cfg-options',
                              'experiment_name=folder'])
    return dict(root=root, cfg=cfg, runner=runner)


def probe(path):
    state = torch.load(path, map_location='cpu', weights_only=False)['state_dict']
    return state['decode_head.cluster_probe.prototypes']


def test_cluster_probe_trains_on_a_folder_without_labels(trained):
    work = trained['root'] / 'work'
    assert trained['runner'].iter == 4
    assert not list(trained['root'].rglob('*ann*')) and trained['runner'].val_loop is None
    assert trained['runner'].train_dataloader.dataset.metainfo.get('classes') is None
    assert not torch.equal(probe(work / 'iter_2.pth'), probe(work / 'iter_4.pth'))
    assert 'uss_matching' not in torch.load(work / 'iter_4.pth', weights_only=False)['meta']


def test_the_trained_checkpoint_segments_the_folder(trained, tmp_path):
    assert infer_tool.main([str(trained['cfg']), str(trained['root'] / 'work' / 'iter_4.pth'),
                            str(trained['root'] / 'photos'), '--out', str(tmp_path)]) == 0
    names = ['img0', 'img1', 'img2', 'img3', 'more/img0', 'more/img1']
    for name, (h, w) in zip(names, SIZES, strict=True):
        labels = cv2.imread(str(tmp_path / 'labels' / f'{name}.png'), cv2.IMREAD_UNCHANGED)
        assert labels.shape == (h, w) and labels.max() < NUM_CLUSTERS
        assert cv2.imread(str(tmp_path / 'overlays' / f'{name}.jpg')).shape == (h, w, 3)
