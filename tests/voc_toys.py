"""A tiny PASCAL VOC 2012 tree of vendored photos, shared by the VOC tool tests."""
import os.path as osp
import shutil
from pathlib import Path
from typing import List, Sequence, Tuple

import numpy as np
from PIL import Image

PHOTOS = Path(__file__).resolve().parent / 'data' / 'photos'


def voc_tree(root: Path, splits: Sequence[str] = ('train', ),
             photos: Sequence[str] = ('chelsea', 'coffee')) -> List[Tuple[np.ndarray, np.ndarray]]:
    """Write ``JPEGImages``, palette ``SegmentationClass`` (0..20, 255) and one image list per
    split (all photos in each) under ``root``; return the decoded RGB images and their labels."""
    (root / 'JPEGImages').mkdir(parents=True, exist_ok=True)
    (root / 'SegmentationClass').mkdir(exist_ok=True)
    (root / 'ImageSets' / 'Segmentation').mkdir(parents=True, exist_ok=True)
    sources, ids = [], []
    for k, photo in enumerate(photos):
        image_id = f'2007_{k:06d}'
        shutil.copy(osp.join(PHOTOS, photo + '.jpg'), root / 'JPEGImages' / f'{image_id}.jpg')
        rgb = np.asarray(Image.open(root / 'JPEGImages' / f'{image_id}.jpg').convert('RGB'))
        height, width = rgb.shape[:2]
        labels = ((np.arange(height)[:, None] // 7 + np.arange(width)[None] // 9 + k) % 22
                  ).astype(np.uint8)
        labels[labels == 21] = 255
        png = Image.frombytes('P', (width, height), labels.tobytes())
        png.putpalette([v for i in range(256) for v in (i, 255 - i, (5 * i) % 256)])
        png.save(root / 'SegmentationClass' / f'{image_id}.png')
        sources.append((rgb, labels))
        ids.append(image_id)
    for split in splits:
        (root / 'ImageSets' / 'Segmentation' / f'{split}.txt').write_text('\n'.join(ids) + '\n')
    return sources
