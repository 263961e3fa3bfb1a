"""The shipped USS dataset configs on fake trees in the official layouts, pixel by pixel.

Expected values restate the protocol of docs/datasets.md: torchvision
``Resize(res)`` (short side ``res``, long side ``int(res * long / short)``, PIL
nearest = pixel-centre sampling), torchvision ``CenterCrop`` (offset
``round((L - res) / 2)``) and the references' label tables (restated below).
"""
import copy
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image
from scipy.io import savemat

CONFIG_DIR = osp.join(osp.dirname(__file__), '..', '..', 'configs', '_base_', 'datasets')


def write_png(path: str, array: np.ndarray, palette: bool = False) -> None:
    """Save ``array`` as png; ``palette=True`` writes an indexed (mode P) png as VOC's."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    if palette:
        image = Image.frombytes('P', array.shape[::-1], np.ascontiguousarray(array).tobytes())
        image.putpalette([v for i in range(256) for v in (i, 255 - i, (7 * i) % 256)])
    else:
        image = Image.fromarray(array)
    image.save(path)


def random_rgb(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def pil_nearest_source(out_size: int, in_size: int) -> np.ndarray:
    """Source index of every output pixel of PIL's (= torchvision's) NEAREST resize."""
    return np.floor((np.arange(out_size) + 0.5) * in_size / out_size).astype(int)



# STEGO/HP's COCO-Stuff-27 table: coarse class <- fine COCO-Stuff ids
COCO_COARSE_FROM_FINE = [
    range(71, 77), range(77, 83), range(51, 61), range(61, 71), range(83, 91), range(43, 51),
    range(25, 33), range(15, 25), range(9, 15), [0], range(33, 43), range(1, 9), [101, 102],
    [100, 113, 114, 115, 116, 117], [120, 121, 152, 169],
    [97, 106, 107, 109, 111, 122, 129, 132, 155, 160, 164], [99, 131, 138, 142],
    [91, 92, 103, 104, 108, 130, 136, 140, 151, 166, 167], range(170, 177), [179, 180],
    [94, 95, 127, 150, 157, 165], [110, 124, 125, 135, 139, 143, 144, 146, 148, 153, 158],
    [93, 96, 118, 123, 128, 133, 141, 162, 168], [105, 156], [126, 134, 149, 159, 161, 181],
    [98, 112, 137, 145, 163], [119, 147, 154, 177, 178]
]


def image_names(dataset):
    return [osp.basename(dataset.get_data_info(i)['img_path']) for i in range(len(dataset))]


def coco_reference(fine: np.ndarray) -> np.ndarray:
    out = np.full(fine.shape, 255)
    for coarse, fines in enumerate(COCO_COARSE_FROM_FINE):
        out[np.isin(fine, list(fines))] = coarse
    return out


def expected_crop(array: np.ndarray, res: int, new_h: int, new_w: int) -> np.ndarray:
    """Nearest resize to ``new_h × new_w`` then the ``res × res`` centre crop."""
    top, left = round((new_h - res) / 2), round((new_w - res) / 2)
    rows = pil_nearest_source(new_h, array.shape[0])[top:top + res]
    cols = pil_nearest_source(new_w, array.shape[1])[left:left + res]
    return array[rows][:, cols]


def check_batch(batch, sources, res, new_h, new_w, reference):
    """Every sample: 3×res×res BGR crop of the image and res×res mapped labels."""
    samples = batch['data_samples']
    for img, sample, (rgb, labels) in zip(batch['inputs'], samples, sources, strict=True):
        assert tuple(img.shape) == (3, res, res)
        bgr = expected_crop(rgb, res, new_h, new_w)[:, :, ::-1]
        np.testing.assert_array_equal(img.permute(1, 2, 0).numpy(), bgr)
        gt = sample.gt_sem_seg.data[0].numpy()
        np.testing.assert_array_equal(gt, expected_crop(reference(labels), res, new_h, new_w))
        assert tuple(sample.ori_shape) == (res, res) == tuple(sample.img_shape)


def cityscapes_tree(root, rng, names=('aachen_000000_000019', 'bochum_000000_000313'),
                    height=16, width=32):
    """Scale factors res/16 = 20 and 322/14 = 23 avoid pixel-centre ties of nearest resizing."""
    sources = []
    for k, name in enumerate(names):
        city = name.split('_')[0]
        rgb = random_rgb(rng, height, width)
        labels = ((np.arange(height * width).reshape(height, width) * (k + 3)) % 34).astype(
            np.uint8)
        write_png(osp.join(root, 'leftImg8bit/val', city, name + '_leftImg8bit.png'), rgb)
        write_png(osp.join(root, 'gtFine/val', city, name + '_gtFine_labelIds.png'), labels)
        # decoys that must not be read
        write_png(osp.join(root, 'gtFine/val', city, name + '_gtFine_labelTrainIds.png'),
                  np.full((height, width), 3, np.uint8))
        write_png(osp.join(root, 'gtFine/val', city, name + '_gtFine_color.png'), rgb)
        sources.append((rgb, labels))
    return sources


def test_cityscapes27_labelids_minus_7(tmp_path, build_loader):
    sources = cityscapes_tree(tmp_path, np.random.default_rng(0))
    loader, _ = build_loader('cityscapes27.py', tmp_path)
    assert loader.dataset.metainfo['classes'][2] == 'parking'
    assert len(loader.dataset.metainfo['classes']) == 27
    batch = next(iter(loader))
    # 16×32 → 320×640, centre crop x ∈ [160, 480)
    check_batch(batch, sources, 320, 320, 640, lambda ids: np.where(ids >= 7, ids - 7, 255))
    gt = batch['data_samples'][0].gt_sem_seg.data
    assert set(gt.unique().tolist()) == set(range(27)) | {255}


def test_cityscapes27_322_crop(tmp_path, build_loader):
    sources = cityscapes_tree(tmp_path, np.random.default_rng(1), names=('ulm_000000_000019', ),
                              height=14, width=28)
    loader, _ = build_loader('cityscapes27_322.py', tmp_path)
    check_batch(next(iter(loader)), sources, 322, 322, 644,
                lambda ids: np.where(ids >= 7, ids - 7, 255))


def test_cityscapes27_bad_inputs(tmp_path, build_loader):
    rng = np.random.default_rng(2)
    name = 'jena_000000_000019'
    write_png(osp.join(tmp_path, 'leftImg8bit/val/jena', name + '_leftImg8bit.png'),
              random_rgb(rng, 16, 32))
    loader, _ = build_loader('cityscapes27.py', tmp_path)
    missing = osp.join(tmp_path, 'gtFine/val/jena', name + '_gtFine_labelIds.png')
    with pytest.raises(FileNotFoundError, match=missing):
        next(iter(loader))
    labels = np.full((16, 32), 8, np.uint8)
    labels[3, 4] = 34  # not a Cityscapes labelId
    write_png(missing, labels)
    with pytest.raises(ValueError, match=rf'{missing}.*\[34\]'):
        next(iter(loader))
    _, cfg = build_loader('cityscapes27.py', tmp_path)
    pipeline = copy.deepcopy(cfg.test_pipeline)
    assert pipeline[2]['type'] == 'LabelLUT'
    pipeline[2]['unmapped'] = 'ignore'
    loader, _ = build_loader('cityscapes27.py', tmp_path, pipeline=pipeline)
    gt = next(iter(loader))['data_samples'][0].gt_sem_seg.data[0].numpy()
    expected = np.ones((16, 32), int)
    expected[3, 4] = 255
    np.testing.assert_array_equal(gt, expected_crop(expected, 320, 320, 640))


def coco_tree(root, rng, ids, list_name='my_list.txt'):
    sources = []
    for k, image_id in enumerate(ids):
        rgb = random_rgb(rng, 29, 24)
        Image.fromarray(rgb).save(osp.join(root, f'images/val2017/{image_id}.jpg'), quality=95)
        labels = ((np.arange(29 * 24).reshape(29, 24) * (k + 1)) % 190).astype(np.uint8)
        labels[labels >= 182] = 255
        write_png(osp.join(root, f'annotations/val2017/{image_id}.png'), labels)
        decoded = np.asarray(Image.open(osp.join(root, f'images/val2017/{image_id}.jpg')))
        sources.append((decoded, labels))
    with open(osp.join(root, list_name), 'w') as f:
        f.write('\n'.join(ids) + '\n')
    return sources


def test_cocostuff27_curated_list(tmp_path, build_loader):
    (tmp_path / 'images/val2017').mkdir(parents=True)
    rng = np.random.default_rng(3)
    sources = coco_tree(tmp_path, rng, ['000000000285', '000000000139'])
    coco_tree(tmp_path, rng, ['000000000632'], list_name='other.txt')  # not listed
    loader, cfg = build_loader('cocostuff27.py', tmp_path, ann_file='my_list.txt')
    assert cfg.val_dataloader.dataset.ann_file.endswith('Coco164kFull_Stuff_Coarse_7.txt')
    assert image_names(loader.dataset) == [
        '000000000285.jpg', '000000000139.jpg']
    # 29×24 → torchvision: 386×320 (mmseg's ResizeShortestEdge would give 387), top = 33
    check_batch(next(iter(loader)), sources, 320, 386, 320, coco_reference)


def test_cocostuff27_table_covers_all_fine_ids_once():
    fines = [f for group in COCO_COARSE_FROM_FINE for f in group]
    assert sorted(fines) == list(range(182))


def test_cocostuff27_missing_files_are_named(tmp_path, build_loader):
    (tmp_path / 'images/val2017').mkdir(parents=True)
    coco_tree(tmp_path, np.random.default_rng(4), ['000000000285'])
    with open(tmp_path / 'my_list.txt', 'a') as f:
        f.write('000000099999\n')
    with pytest.raises(FileNotFoundError, match=r'my_list.txt.*000000099999.*does not exist'):
        build_loader('cocostuff27.py', tmp_path, ann_file='my_list.txt')
    (tmp_path / 'annotations/val2017/000000000285.png').unlink()
    with open(tmp_path / 'short.txt', 'w') as f:
        f.write('000000000285\n')
    with pytest.raises(FileNotFoundError, match='annotations/val2017/000000000285.png'):
        build_loader('cocostuff27.py', tmp_path, ann_file='short.txt')


def test_potsdam3_from_mat_files(tmp_path, build_loader, load_tool):
    """STEGO's .mat layout → converter → the shipped config: {0,4}→0, {1,5}→1, {2,3}→2."""
    converter = load_tool('potsdam3_mat_to_png')
    src, rng = tmp_path / 'potsdam', np.random.default_rng(5)
    (src / 'imgs').mkdir(parents=True)
    (src / 'gt').mkdir()
    sources = {}
    for k, image_id in enumerate(['3_10_5', '4_11_0', '6_7_2']):
        img = rng.random((10, 10, 4))  # float in [0, 1], 4 channels (RGB + IR)
        fine = ((np.arange(100).reshape(10, 10) + k) % 7).astype(np.uint8)
        fine[fine == 6] = 255
        savemat(src / 'imgs' / f'{image_id}.mat', {'img': img})
        savemat(src / 'gt' / f'{image_id}.mat', {'gt': fine})
        sources[image_id] = ((img[:, :, :3] * 255).astype(np.uint8), fine)  # to_pil_image
    (src / 'labelled_train.txt').write_text('3_10_5\n')
    (src / 'labelled_test.txt').write_text('6_7_2\n4_11_0\n')
    for list_file, split in converter.parse_splits(list(converter.DEFAULT_SPLITS)).items():
        converter.convert_split(str(src), str(tmp_path / 'out'), list_file, split)
    loader, _ = build_loader('potsdam3.py', tmp_path / 'out')
    merged = {0: 0, 4: 0, 1: 1, 5: 1, 2: 2, 3: 2, 255: 255}
    check_batch(next(iter(loader)), [sources['4_11_0'], sources['6_7_2']], 320, 320, 320,
                lambda fine: np.vectorize(merged.get)(fine))
    loader, _ = build_loader('potsdam3.py', tmp_path / 'out', split='train')
    assert image_names(loader.dataset) == ['3_10_5.png']


def test_potsdam3_converter_names_bad_files(tmp_path, load_tool):
    converter = load_tool('potsdam3_mat_to_png')
    (tmp_path / 'imgs').mkdir()
    (tmp_path / 'list.txt').write_text('a\n')
    with pytest.raises(FileNotFoundError, match=r'imgs/a\.mat'):
        converter.convert_split(str(tmp_path), str(tmp_path / 'out'), 'list.txt', 'val')
    savemat(tmp_path / 'imgs' / 'a.mat', {'img': np.full((4, 4, 4), 2.0)})
    with pytest.raises(ValueError, match=r'imgs/a\.mat.*\[0, 1\]'):
        converter.convert_split(str(tmp_path), str(tmp_path / 'out'), 'list.txt', 'val')


def test_pascal_voc_fixed_512_resize_and_original_labels(tmp_path, build_loader):
    rng = np.random.default_rng(6)
    ids, sources = ['2007_000033', '2007_000042'], []
    for k, image_id in enumerate(ids):
        rgb = random_rgb(rng, 12 + k, 17)
        (tmp_path / 'JPEGImages').mkdir(exist_ok=True)
        Image.fromarray(rgb).save(tmp_path / 'JPEGImages' / f'{image_id}.jpg')
        labels = ((np.arange((12 + k) * 17).reshape(12 + k, 17)) % 22).astype(np.uint8)
        labels[labels == 21] = 255
        write_png(osp.join(tmp_path, 'SegmentationClass', image_id + '.png'), labels,
                  palette=True)
        sources.append(labels)
    (tmp_path / 'ImageSets/Segmentation').mkdir(parents=True)
    (tmp_path / 'ImageSets/Segmentation/val.txt').write_text('\n'.join(ids) + '\n')
    loader, _ = build_loader('pascal_voc.py', tmp_path)
    assert loader.dataset.metainfo['classes'][0] == 'background'
    batch = next(iter(loader))
    for img, sample, labels in zip(batch['inputs'], batch['data_samples'], sources, strict=True):
        assert tuple(img.shape) == (3, 512, 512)
        assert tuple(sample.ori_shape) == labels.shape
        np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(), labels)


@pytest.mark.parametrize('name,size', [('pascal_voc_320.py', 320), ('pascal_voc_322.py', 322)])
def test_pascal_voc_cause_protocol_squashes_image_and_labels(tmp_path, build_loader, name, size):
    """CAUSE: Resize((res, res), NEAREST) of image and annotation, scored at res×res."""
    rng = np.random.default_rng(8)
    ids, sources = ['2008_000002', '2008_000003'], []
    # 320/16 = 20, 320/20 = 16, 322/14 = 23, 322/23 = 14: no pixel-centre ties
    height, width = (16, 20) if size == 320 else (14, 23)
    for image_id in ids:
        rgb = random_rgb(rng, height, width)
        write_png(osp.join(tmp_path, 'JPEGImages', image_id + '.png'), rgb)  # lossless
        labels = rng.integers(0, 22, (height, width)).astype(np.uint8)
        labels[labels == 21] = 255
        write_png(osp.join(tmp_path, 'SegmentationClass', image_id + '.png'), labels,
                  palette=True)
        sources.append((rgb, labels))
    (tmp_path / 'ImageSets/Segmentation').mkdir(parents=True)
    (tmp_path / 'ImageSets/Segmentation/val.txt').write_text('\n'.join(ids) + '\n')
    loader, _ = build_loader(name, tmp_path, img_suffix='.png')
    batch = next(iter(loader))
    rows, cols = pil_nearest_source(size, height), pil_nearest_source(size, width)
    for img, sample, (rgb, labels) in zip(batch['inputs'], batch['data_samples'], sources,
                                          strict=True):
        np.testing.assert_array_equal(img.permute(1, 2, 0).numpy(), rgb[rows][:, cols][:, :, ::-1])
        np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(), labels[rows][:, cols])
        assert tuple(sample.ori_shape) == (size, size) == tuple(sample.img_shape)


def test_voc_crop_folder_without_images_is_named(tmp_path, build_loader):
    (tmp_path / 'crops' / 'img').mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"PascalVOC21Dataset found no image ending in "
                       r"'\.jpg' under '.*crops/img'"):
        build_loader('pascal_voc_320.py', tmp_path, split='train', type='PascalVOC21Dataset',
                     ann_file='', data_prefix=dict(img_path='crops/img',
                                                   seg_map_path='crops/label'))


@pytest.mark.parametrize('name,size', [
    ('cityscapes27.py', 320), ('cityscapes27_322.py', 322), ('cocostuff27.py', 320),
    ('cocostuff27_322.py', 322), ('potsdam3.py', 320), ('potsdam3_322.py', 322),
    ('cityscapes27_five_crop.py', 320), ('cocostuff27_five_crop.py', 320)])
def test_every_config_resizes_and_crops_to_its_size(name, size):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, name))
    loaders = [cfg.val_dataloader, cfg.test_dataloader]
    train_size = 224 if 'five_crop' in name else size
    for loader, crop in [(cfg.train_dataloader, train_size)] + [(x, size) for x in loaders]:
        steps = {step['type']: step for step in loader.dataset.pipeline}
        assert steps['ResizeShortSide']['size'] == crop
        crop_step = steps.get('CenterCropAsOriginal', steps.get('CenterCrop'))
        assert crop_step['crop_size'] == crop
        assert list(steps).index('LabelLUT') == list(steps).index('LoadAnnotations') + 1
    assert 'CenterCropAsOriginal' in [s['type'] for s in cfg.val_dataloader.dataset.pipeline]
    assert not cfg.val_dataloader.sampler.shuffle


def test_cityscapes27_train_split_is_the_same_centre_crop(tmp_path, build_loader):
    rng = np.random.default_rng(7)
    rgb, labels = random_rgb(rng, 16, 32), rng.integers(0, 34, (16, 32), dtype=np.uint8)
    write_png(osp.join(tmp_path, 'leftImg8bit/train/ulm/ulm_1_leftImg8bit.png'), rgb)
    write_png(osp.join(tmp_path, 'gtFine/train/ulm/ulm_1_gtFine_labelIds.png'), labels)
    loader, _ = build_loader('cityscapes27.py', tmp_path, split='train')
    sample = next(iter(loader))['data_samples'][0]
    expected = expected_crop(np.where(labels >= 7, labels - 7, 255), 320, 320, 640)
    np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(), expected)
