"""tools/dataset_converters/five_crop.py: STEGO's five, CAUSE's super crops; order, size, files."""
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

from ..voc_toys import voc_tree

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
        'five_crop.py', CONFIG, '--split', 'train', '--name', 'cityscapes', '--cfg-options',
        f'data_root={tmp_path}'])
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


VOC_CONFIG = osp.join(REPO, 'configs', '_base_', 'datasets', 'pascal_voc.py')
VOC_STEP2 = osp.join(REPO, 'configs', 'cause', 'cause-mlp_dino-vit-s8_2e_voc-320.py')


def reference_ten_crop(array, ratio):
    """torchvision ``ten_crop(x, (int(H·r), int(W·r)))`` restated with slices: TL, TR, BL, BR,
    centre (offsets ``round((H - h) / 2)``, ``round((W - w) / 2)``) of ``x``, then of its h-flip."""
    height, width = array.shape[:2]
    h, w = int(height * ratio), int(width * ratio)
    top, left = int(round((height - h) / 2.0)), int(round((width - w) / 2.0))
    crops = []
    for x in (array, array[:, ::-1]):
        crops += [x[:h, :w], x[:h, width - w:], x[height - h:, :w], x[height - h:, width - w:],
                  x[top:top + h, left:left + w]]
    return crops


def test_super_crop_views(five_crop):
    # 10×20, ratio 0.3 → 3×6 crops; centre offsets round(7/2)=4 (half to even), round(14/2)=7
    views = five_crop.crop_views(10, 20, 'super')
    assert len(views) == 50
    boxes = [(0, 0, 3, 6), (0, 14, 3, 6), (7, 0, 3, 6), (7, 14, 3, 6), (4, 7, 3, 6)]
    assert views[:10] == [(False, *b) for b in boxes] + [(True, *b) for b in boxes]
    # ratio 0.7 → 7×14 crops, centre offsets round(1.5)=2, round(3)=3
    assert views[-1] == (True, 2, 3, 7, 14)
    assert five_crop.crop_views(10, 20, 'five', 0.3) == [(False, *b) for b in boxes]
    with pytest.raises(ValueError, match='crop_type'):
        five_crop.crop_views(10, 20, 'ten')


def test_tool_writes_cause_super_crops_of_voc(tmp_path, five_crop):
    """50 crops per image in the reference's order, files atomically written, and the CAUSE
    VOC training config reads them back squashed to its size."""
    root = tmp_path / 'VOC2012'
    sources = voc_tree(root)
    five_crop.main([VOC_CONFIG, '--split', 'train', '--name', 'pascalvoc', '--crop-type',
                    'super', '--cfg-options', f'data_root={root}'])
    out = root / 'cropped' / 'pascalvoc_super_crop_0'
    assert sorted(p.name for p in out.rglob('*') if p.is_file()) == sorted(
        [f'{n}.jpg' for n in range(100)] + [f'{n}.png' for n in range(100)])
    reference = tmp_path / 'reference.jpg'
    for i, (rgb, labels) in enumerate(sources):
        for k, ratio in enumerate((0.3, 0.4, 0.5, 0.6, 0.7)):
            images, crops = reference_ten_crop(rgb, ratio), reference_ten_crop(labels, ratio)
            for j, (image, crop) in enumerate(zip(images, crops)):
                n = i * 50 + k * 10 + j
                saved = np.asarray(Image.open(out / 'label' / 'train' / f'{n}.png'))
                np.testing.assert_array_equal(saved, np.where(crop == 255, 0, crop + 1))
                jpg = Image.open(out / 'img' / 'train' / f'{n}.jpg')
                assert jpg.format == 'JPEG' and jpg.size == crop.shape[::-1]
                Image.fromarray(np.ascontiguousarray(image)).save(reference, 'JPEG')
                np.testing.assert_array_equal(np.asarray(jpg), np.asarray(Image.open(reference)))

    # step 2 of CAUSE-MLP reads them: every crop → 224×224, PIL nearest, labels class + 1 undone
    init_default_scope('mmseg')
    loader_cfg = copy.deepcopy(Config.fromfile(VOC_STEP2).train_dataloader)
    loader_cfg.update(num_workers=0, persistent_workers=False, batch_size=12,
                      sampler=dict(type='DefaultSampler', shuffle=False))
    loader_cfg.dataset.data_root = str(root)
    batch = next(iter(Runner.build_dataloader(loader_cfg)))
    for image, sample in zip(batch['inputs'], batch['data_samples']):
        n = int(osp.basename(sample.img_path)[:-4])
        rgb, labels = sources[n // 50]
        ratio = (0.3, 0.4, 0.5, 0.6, 0.7)[n % 50 // 10]
        crop = reference_ten_crop(labels, ratio)[n % 10]
        rows = np.floor((np.arange(224) + 0.5) * crop.shape[0] / 224).astype(int)
        cols = np.floor((np.arange(224) + 0.5) * crop.shape[1] / 224).astype(int)
        np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(), crop[rows][:, cols])
        jpg = np.asarray(Image.open(sample.img_path))
        np.testing.assert_array_equal(image.permute(1, 2, 0).numpy(),
                                      jpg[rows][:, cols][:, :, ::-1])


def test_tool_names_missing_sources_and_refuses_a_super_ratio(tmp_path, five_crop, capsys):
    with pytest.raises(FileNotFoundError, match=r'ImageSets/Segmentation/train\.txt does not '
                       r'exist: pass --cfg-options data_root='):
        five_crop.main([VOC_CONFIG, '--name', 'pascalvoc', '--crop-type', 'super',
                        '--cfg-options', f'data_root={tmp_path}'])
    with pytest.raises(SystemExit):
        five_crop.main([VOC_CONFIG, '--name', 'pascalvoc', '--crop-type', 'super',
                        '--ratio', '0.5'])
    assert '--ratio applies to --crop-type five' in capsys.readouterr().err


def test_an_interrupted_write_leaves_no_file(tmp_path, five_crop, monkeypatch):
    """A crop whose save fails leaves neither a partial file nor a temporary one."""
    def broken_save(self, path, fmt):
        with open(path, 'wb') as handle:
            handle.write(b'partial')
        raise OSError('disk full')

    monkeypatch.setattr(Image.Image, 'save', broken_save)
    image = np.zeros((4, 6, 3), np.uint8)
    with pytest.raises(OSError, match='disk full'):
        five_crop.write_crops(0, image, np.zeros((4, 6), np.uint8), str(tmp_path),
                              str(tmp_path), 'five', 0.5)
    assert list(tmp_path.iterdir()) == []
