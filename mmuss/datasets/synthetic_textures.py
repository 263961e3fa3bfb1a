"""A deterministic synthetic segmentation dataset: textured regions of distinct classes.

It is mmuss's embedded default (``make demo``): no download, real train/val
splits, written in mmseg's ``img_dir/{split}`` + ``ann_dir/{split}`` layout so
``BaseSegDataset`` reads it unchanged.
"""
import os.path as osp
from typing import Dict, List, Tuple

import numpy as np
from mmengine.utils import mkdir_or_exist
from PIL import Image

# name, base RGB colour, texture
TEXTURE_CLASSES: Tuple[Tuple[str, Tuple[int, int, int], str], ...] = (
    ('grass', (60, 160, 50), 'noise'),
    ('sky', (110, 170, 240), 'smooth'),
    ('brick', (190, 70, 50), 'stripes'),
    ('sand', (225, 200, 120), 'dots'),
    ('water', (30, 70, 150), 'waves'),
    ('stone', (130, 130, 130), 'checker'),
)
PALETTE: List[List[int]] = [list(c) for _, c, _ in TEXTURE_CLASSES]
CLASSES: Tuple[str, ...] = tuple(name for name, _, _ in TEXTURE_CLASSES)


def texture(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """A ``size×size`` brightness modulation in about ``[-1, 1]`` for one texture kind."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    phase = rng.uniform(0, 2 * np.pi)
    if kind == 'smooth':
        return (yy / size - 0.5) * 0.6
    if kind == 'noise':
        return rng.uniform(-1, 1, (size, size)).astype(np.float32)
    if kind == 'stripes':
        return np.sign(np.sin(2 * np.pi * yy / 6 + phase))
    if kind == 'dots':
        return np.where((np.sin(2 * np.pi * xx / 7 + phase) *
                         np.sin(2 * np.pi * yy / 7)) > 0.6, -1.0, 0.3)
    if kind == 'waves':
        return np.sin(2 * np.pi * (xx + 3 * np.sin(2 * np.pi * yy / 16)) / 10 + phase)
    if kind == 'checker':
        return np.where(((xx // 8) + (yy // 8)) % 2 == 0, 0.8, -0.8)
    raise ValueError(f'Unknown texture kind {kind!r}.')


def region_layout(size: int, num_classes: int, rng: np.random.Generator) -> np.ndarray:
    """A random Voronoi partition of the image into 2–5 regions with random classes."""
    num_seeds = int(rng.integers(2, 6))
    seeds = rng.uniform(0, size, (num_seeds, 2))
    labels = rng.choice(num_classes, size=num_seeds, replace=num_seeds > num_classes)
    yy, xx = np.mgrid[0:size, 0:size]
    dist = (yy[None] - seeds[:, 0, None, None])**2 + (xx[None] - seeds[:, 1, None, None])**2
    return labels[dist.argmin(0)].astype(np.uint8)


def render(label: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """RGB image of a label map: each class's colour modulated by its texture, plus noise."""
    size = label.shape[0]
    image = np.zeros((size, size, 3), np.float32)
    for cls, (_, colour, kind) in enumerate(TEXTURE_CLASSES):
        mask = label == cls
        if mask.any():
            shade = 1 + 0.25 * texture(kind, size, rng)
            image[mask] = np.asarray(colour, np.float32) * shade[mask, None]
    image += rng.normal(0, 6, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def generate_synthetic_textures(root: str, num_train: int = 160, num_val: int = 40,
                                size: int = 96, seed: int = 0) -> Dict[str, int]:
    """Write the dataset under ``root`` (skipping files that already exist).

    Layout: ``root/img_dir/{train,val}/NNNN.png`` (RGB) and
    ``root/ann_dir/{train,val}/NNNN.png`` (class ids ``0..5``). The same
    ``seed`` always gives the same files.

    Returns:
        Number of images per split.
    """
    counts = dict(train=num_train, val=num_val)
    for split_index, (split, count) in enumerate(counts.items()):
        img_dir = osp.join(root, 'img_dir', split)
        ann_dir = osp.join(root, 'ann_dir', split)
        mkdir_or_exist(img_dir)
        mkdir_or_exist(ann_dir)
        for i in range(count):
            img_path = osp.join(img_dir, f'{i:04d}.png')
            ann_path = osp.join(ann_dir, f'{i:04d}.png')
            if osp.exists(img_path) and osp.exists(ann_path):
                continue
            rng = np.random.default_rng([seed, split_index, i])
            label = region_layout(size, len(TEXTURE_CLASSES), rng)
            Image.fromarray(render(label, rng)).save(img_path)
            Image.fromarray(label).save(ann_path)
    return counts
