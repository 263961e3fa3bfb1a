"""Convert STEGO's (IIC's) Potsdam ``.mat`` crops to the png layout of mmseg's PotsdamDataset.

``python tools/dataset_converters/potsdam3_mat_to_png.py SRC DST``

``SRC`` is the extracted ``potsdam`` archive: ``imgs/<id>.mat`` (key ``img``,
H×W×4, the first three channels are RGB), ``gt/<id>.mat`` (key ``gt``, fine
labels 0..5, 255 = ignore) and the split lists ``labelled_train.txt`` and
``labelled_test.txt`` (one id per line). Written: ``DST/img_dir/<split>/<id>.png``
(RGB) and ``DST/ann_dir/<split>/<id>.png`` (uint8 fine labels), read by
``configs/_base_/datasets/potsdam3.py``. Float images are quantised as
torchvision's ``to_pil_image`` does (``uint8(255·x)``, truncating), as STEGO
loads them.
"""
import argparse
import os
import os.path as osp
from typing import Dict, List, Optional

import numpy as np
from PIL import Image
from scipy.io import loadmat

from mmuss.utils.fileio import atomic_write

DEFAULT_SPLITS = ('labelled_train.txt:train', 'labelled_test.txt:val')


def read_mat(path: str, key: str) -> np.ndarray:
    """Array ``key`` of a ``.mat`` file, naming the file when it or the key is missing."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} does not exist.')
    content = loadmat(path)
    if key not in content:
        raise KeyError(f'{path} has no {key!r} array (keys: {sorted(content)}).')
    return content[key]


def rgb_from_mat(img: np.ndarray, path: str) -> np.ndarray:
    """First three channels as uint8 RGB; floats in [0, 1] become ``uint8(255·x)``."""
    if img.ndim != 3 or img.shape[2] < 3:
        raise ValueError(f'{path}: expected an H×W×C image with C >= 3, got {img.shape}.')
    rgb = img[:, :, :3]
    if np.issubdtype(rgb.dtype, np.floating):
        if rgb.min() < 0 or rgb.max() > 1:
            raise ValueError(f'{path}: float image values must lie in [0, 1], '
                             f'got [{rgb.min()}, {rgb.max()}].')
        return (rgb * 255).astype(np.uint8)
    if rgb.dtype != np.uint8:
        raise ValueError(f'{path}: unsupported image dtype {rgb.dtype}.')
    return rgb


def labels_from_mat(gt: np.ndarray, path: str) -> np.ndarray:
    """Fine label map as uint8, refusing values outside 0..255."""
    gt = np.squeeze(gt)
    if gt.ndim != 2:
        raise ValueError(f'{path}: expected a 2-d label map, got shape {gt.shape}.')
    if not np.issubdtype(gt.dtype, np.integer) and not np.array_equal(gt, np.round(gt)):
        raise ValueError(f'{path}: label values must be integers, got {gt.dtype} fractions.')
    if gt.min() < 0 or gt.max() > 255:
        raise ValueError(f'{path}: label values must lie in 0..255, '
                         f'got [{gt.min()}, {gt.max()}].')
    return gt.astype(np.uint8)


def parse_splits(specs: List[str]) -> Dict[str, str]:
    """``['list.txt:split', ...]`` → ``{list: split}``."""
    splits = {}
    for spec in specs:
        name, sep, split = spec.rpartition(':')
        if not sep or not name or not split:
            raise ValueError(f'Split spec {spec!r} is not LIST:SPLIT.')
        splits[name] = split
    return splits


def convert_split(src: str, dst: str, list_file: str, split: str) -> int:
    """Convert every id of ``src/list_file`` into ``dst/{img_dir,ann_dir}/split``."""
    list_path = osp.join(src, list_file)
    if not osp.isfile(list_path):
        raise FileNotFoundError(f'Split list {list_path} does not exist.')
    with open(list_path) as f:
        ids = [line.strip() for line in f if line.strip()]
    img_dir, ann_dir = osp.join(dst, 'img_dir', split), osp.join(dst, 'ann_dir', split)
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(ann_dir, exist_ok=True)
    for image_id in ids:
        img_path = osp.join(src, 'imgs', image_id + '.mat')
        gt_path = osp.join(src, 'gt', image_id + '.mat')
        rgb = rgb_from_mat(read_mat(img_path, 'img'), img_path)
        labels = labels_from_mat(read_mat(gt_path, 'gt'), gt_path)
        if rgb.shape[:2] != labels.shape:
            raise ValueError(f'{img_path} is {rgb.shape[:2]} but {gt_path} is {labels.shape}.')
        for folder, array in ((img_dir, rgb), (ann_dir, labels)):
            png = Image.fromarray(array)
            atomic_write(osp.join(folder, image_id + '.png'),
                         lambda tmp: png.save(tmp, format='PNG'))
    return len(ids)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description='Potsdam .mat crops → png (mmseg layout).')
    parser.add_argument('src', help='extracted STEGO potsdam folder (imgs/, gt/, *.txt)')
    parser.add_argument('dst', help='output root, e.g. data/potsdam3')
    parser.add_argument('--splits', nargs='+', default=list(DEFAULT_SPLITS),
                        help='LIST:SPLIT pairs (default: %(default)s)')
    args = parser.parse_args(argv)
    for list_file, split in parse_splits(args.splits).items():
        count = convert_split(args.src, args.dst, list_file, split)
        print(f'{split}: {count} images from {list_file}')


if __name__ == '__main__':
    main()
