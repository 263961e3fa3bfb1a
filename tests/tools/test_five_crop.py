"""tools/dataset_converters/five_crop.py: STEGO's five crops, order, size and files."""
import copy
import importlib.util
import os.path as osp
import sys

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from PIL import Image

REPO = osp.join(osp.dirname(__file__), '..', '..')
CONFIG = osp.join(REPO, 'configs', '_base_', 'datasets', 'cityscapes27.py')
CROP_CONFIG = osp.join(REPO, 'configs', '_base_', 'datasets', 'cityscapes27_five_crop.py')


@pytest.fixture(scope='module')
def five_crop():
    path = osp.join(REPO, 'tools', 'dataset_converters', 'five_crop.py')
    spec = importlib.util.spec_from_file_location('five_crop', path)
    module = importlib.util.module_from_spec(spec)
    sys.modules['five_crop'] = module  # so that --nproc workers can unpickle its CropWriter
    spec.loader.exec_module(module)
    yield module
    del sys.modules['five_crop']


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

    # two worker processes write the same files
    argv = sys.argv + ['--nproc', '2', '--out-dir', str(tmp_path / 'par')]
    monkeypatch.setattr(sys, 'argv', argv)
    five_crop.main()
    parallel = tmp_path / 'par' / 'cityscapes_five_crop_0.5'
    for path in sorted(out.rglob('*.*')):
        assert (parallel / path.relative_to(out)).read_bytes() == path.read_bytes()

    # the STEGO/HP training config reads them back: 4×6 crop → 224×336 → centre 224×224
    init_default_scope('mmseg')
    loader_cfg = copy.deepcopy(Config.fromfile(CROP_CONFIG).train_dataloader)
    loader_cfg.update(num_workers=0, persistent_workers=False, batch_size=10,
                      sampler=dict(type='DefaultSampler', shuffle=False))
    loader_cfg.dataset.data_root = str(tmp_path)
    batch = next(iter(Runner.build_dataloader(loader_cfg)))
    rows = np.floor((np.arange(224) + 0.5) * 4 / 224).astype(int)
    cols = np.floor((np.arange(56, 280) + 0.5) * 6 / 336).astype(int)
    for sample in batch['data_samples']:
        n = int(osp.basename(sample.img_path)[:-4])
        rgb, ids = sources[n // 5]
        top, left = offsets[n % 5]
        crop = ids[top:top + 4, left:left + 6].astype(int)
        expected = np.where(crop >= 7, crop - 7, 255)[rows][:, cols]
        np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(), expected)


def test_shifted_labels(five_crop):
    labels = np.array([[0, 26, 255]], np.uint8)
    np.testing.assert_array_equal(five_crop.shifted_labels(labels), [[1, 27, 0]])
    with pytest.raises(ValueError, match='254'):
        five_crop.shifted_labels(np.array([[254]], np.uint8))
