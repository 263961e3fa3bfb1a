"""Tiny fake datasets in the official layouts the shipped configs read (no download).

:func:`write_fake_datasets` writes, under ``root``, every tree a shipped config
points to by default (``data/cityscapes``, ``data/coco_stuff164k``,
``data/potsdam3``, ``data/VOCdevkit/VOC2012``, ``data/my_images``,
``data/synthetic_textures``) with a few small random-block images and label
maps in the value range of each benchmark's official files. The training splits
of the five-crop datasets hold 6 images (30 crops: ``tools/precompute_knns.py``
keeps 30 neighbours by default), Potsdam's 30 images for the same reason, PASCAL VOC's
validation list 20 (MaskContrast's K-means evaluation forms 20 clusters).
"""
import os.path as osp
from pathlib import Path
from typing import Iterable

import cv2
import numpy as np
from PIL import Image

from mmuss.datasets.synthetic_textures import generate_synthetic_textures

#: Image height and width of every fake image (before a config's resize and crop).
HEIGHT, WIDTH = 24, 40


def blocks(rng: np.random.Generator, high: int, channels: int = 0) -> np.ndarray:
    """A ``HEIGHT × WIDTH`` (× ``channels``) map of random 8×8 blocks of values ``< high``."""
    shape = (HEIGHT // 8, WIDTH // 8) + ((channels, ) if channels else ())
    small = rng.integers(0, high, shape, dtype=np.uint8)
    return cv2.resize(small, (WIDTH, HEIGHT), interpolation=cv2.INTER_NEAREST)


def write(path: Path, array: np.ndarray) -> None:
    """Save ``array`` (RGB or a label map) to ``path``, making its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def image_and_labels(root: Path, image: str, labels: str, rng: np.random.Generator,
                     label_values: np.ndarray) -> None:
    """One RGB image and one label map drawn from ``label_values``."""
    write(root / image, blocks(rng, 256, channels=3))
    write(root / labels, label_values[blocks(rng, len(label_values))])


def cityscapes(root: Path, rng: np.random.Generator) -> None:
    """``leftImg8bit/<split>/<city>/*_leftImg8bit.png`` + ``gtFine/.../*_gtFine_labelIds.png``."""
    for split, count in (('train', 6), ('val', 2)):
        for i in range(count):
            city = ('aachen', 'bochum')[i % 2]
            name = f'{city}_{i:06d}_000019'
            image_and_labels(root, f'leftImg8bit/{split}/{city}/{name}_leftImg8bit.png',
                             f'gtFine/{split}/{city}/{name}_gtFine_labelIds.png', rng,
                             np.arange(34, dtype=np.uint8))


def coco_stuff(root: Path, rng: np.random.Generator) -> None:
    """``images/<split>2017/<id>.jpg``, ``annotations/<split>2017/<id>.png``, curated lists."""
    fine = np.array(list(range(182)) + [255], dtype=np.uint8)
    lists = dict(train=('curated/train2017/Coco164kFull_Stuff_Coarse.txt',  # STEGO/HP/CAUSE
                        'curated/train2017/Coco164kFull_Stuff_Coarse_7.txt'),  # PriMaPs
                 val=('curated/val2017/Coco164kFull_Stuff_Coarse_7.txt', ))
    for split, count in (('train', 6), ('val', 2)):
        ids = [f'{(split == "val") * 500 + i:012d}' for i in range(count)]
        for image_id in ids:
            image_and_labels(root, f'images/{split}2017/{image_id}.jpg',
                             f'annotations/{split}2017/{image_id}.png', rng, fine)
        for name in lists[split]:
            write_list(root / name, ids)


def potsdam3(root: Path, rng: np.random.Generator) -> None:
    """``img_dir/<split>/*.png`` + ``ann_dir/<split>/*.png`` (the converter's output)."""
    values = np.array([0, 1, 2, 3, 4, 5, 255], dtype=np.uint8)
    for split, count in (('train', 30), ('val', 2)):
        for i in range(count):
            image_and_labels(root, f'img_dir/{split}/{split}_{i}.png',
                             f'ann_dir/{split}/{split}_{i}.png', rng, values)


def pascal_voc(root: Path, rng: np.random.Generator) -> None:
    """VOC 2012 with ``SegmentationClass(Aug)``, the reference's saliency folders and lists."""
    values = np.array(list(range(21)) + [255], dtype=np.uint8)
    ids = [f'2007_{i:06d}' for i in range(24)]
    saliency = np.zeros((HEIGHT, WIDTH), np.uint8)
    saliency[HEIGHT // 4:3 * HEIGHT // 4, WIDTH // 4:3 * WIDTH // 4] = 255
    for image_id in ids:
        image_and_labels(root, f'JPEGImages/{image_id}.jpg',
                         f'SegmentationClass/{image_id}.png', rng, values)
        write(root / f'SegmentationClassAug/{image_id}.png', values[blocks(rng, len(values))])
        for folder in ('saliency_supervised_model', 'saliency_unsupervised_model'):
            write(root / folder / f'{image_id}.png', saliency)
    sets = root / 'ImageSets' / 'Segmentation'
    write_list(sets / 'train.txt', ids[:1])
    write_list(sets / 'val.txt', ids[4:])  # 20: MaskContrast's K-means forms 20 clusters
    for name in ('trainaug', 'trainaug_saliency'):  # 2 per process under dist_train.sh 2
        write_list(sets / f'{name}.txt', ids[:4])


def image_folder(root: Path, rng: np.random.Generator) -> None:
    """A folder of unlabelled images of a few sizes."""
    for i in range(4):
        write(root / f'photo{i}.jpg', blocks(rng, 256, channels=3))


def write_list(path: Path, ids: Iterable[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(f'{i}\n' for i in ids))


def write_fake_datasets(root: Path, seed: int = 0) -> Path:
    """Write every fake tree under ``root/data``; returns ``root/data``."""
    rng = np.random.default_rng(seed)
    data = root / 'data'
    cityscapes(data / 'cityscapes', rng)
    coco_stuff(data / 'coco_stuff164k', rng)
    potsdam3(data / 'potsdam3', rng)
    pascal_voc(data / 'VOCdevkit' / 'VOC2012', rng)
    image_folder(data / 'my_images', rng)
    generate_synthetic_textures(osp.join(data, 'synthetic_textures'), num_train=4, num_val=2,
                                size=32, seed=seed)
    return data
