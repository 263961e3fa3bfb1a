"""Write STEGO's five-crop training set (docs/methods/stego.md eq. 13, Q10).

``python tools/dataset_converters/five_crop.py CONFIG --split train --name NAME``

Every image of the config's ``<split>_dataloader`` dataset (full resolution,
labels mapped by the pipeline's ``LabelLUT``) gives five crops of
``(floor(H*r), floor(W*r))`` in torchvision's ``five_crop`` order (top-left,
top-right, bottom-left, bottom-right, centre). Crop ``j`` of item ``i`` is
saved as ``<i*5+j>.jpg`` (PIL JPEG, default quality 75) and ``<i*5+j>.png``
holding ``label + 1`` (0 = ignore), under
``<out-dir>/<name>_five_crop_<r>/{img,label}/<split>/`` — the layout STEGO's
``CroppedDataset`` reads and ``configs/_base_/datasets/*_five_crop.py`` use.
Items are numbered in the dataset's order (sorted paths for Cityscapes, the
curated list's order for COCO-Stuff).
"""
import argparse
import os
import os.path as osp
from typing import List, Tuple

import numpy as np
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.utils import track_parallel_progress, track_progress
from mmseg.registry import DATASETS
from PIL import Image

import mmuss  # noqa: F401  (registers the datasets and transforms)
from mmuss.utils import IGNORE_INDEX



def five_crop_boxes(height: int, width: int, ratio: float) -> List[Tuple[int, int, int, int]]:
    """``(top, left, h, w)`` of torchvision's ``five_crop`` with crop size ``(⌊H·r⌋, ⌊W·r⌋)``.

    Order: top-left, top-right, bottom-left, bottom-right, centre; the centre
    crop's offsets are ``round((H - h) / 2)``, ``round((W - w) / 2)``.
    """
    crop_h, crop_w = int(height * ratio), int(width * ratio)
    if not (0 < crop_h <= height and 0 < crop_w <= width):
        raise ValueError(f'ratio {ratio} gives an empty or oversized crop of a '
                         f'{height}x{width} image.')
    bottom, right = height - crop_h, width - crop_w
    centre = (round(bottom / 2.0), round(right / 2.0))
    return [(0, 0, crop_h, crop_w), (0, right, crop_h, crop_w), (bottom, 0, crop_h, crop_w),
            (bottom, right, crop_h, crop_w), (*centre, crop_h, crop_w)]


def shifted_labels(labels: np.ndarray) -> np.ndarray:
    """USS labels (255 = ignore) → STEGO's crop files: ``label + 1``, 0 = ignore."""
    if (labels[labels != IGNORE_INDEX] >= IGNORE_INDEX - 1).any():
        raise ValueError(f'Class ids must be < {IGNORE_INDEX - 1} to be stored as label + 1.')
    return np.where(labels == IGNORE_INDEX, 0, labels.astype(np.int32) + 1).astype(np.uint8)


def source_pipeline(pipeline: List[dict]) -> List[dict]:
    """Full-resolution loading: RGB image, annotation and the config's ``LabelLUT``."""
    luts = [step for step in pipeline if step['type'] == 'LabelLUT']
    if len(luts) != 1:
        raise ValueError(f'Expected one LabelLUT in the dataset pipeline, found {len(luts)}.')
    return [dict(type='LoadImageFromFile', imdecode_backend='pillow', color_type='color'),
            dict(type='LoadAnnotations'), luts[0]]


def write_crops(index: int, image: np.ndarray, labels: np.ndarray, img_dir: str,
                label_dir: str, ratio: float) -> None:
    """Save the five crops of one RGB image and its USS labels."""
    for j, (top, left, h, w) in enumerate(five_crop_boxes(*labels.shape, ratio)):
        name = str(index * 5 + j)
        Image.fromarray(image[top:top + h, left:left + w]).save(
            osp.join(img_dir, name + '.jpg'), 'JPEG')
        Image.fromarray(shifted_labels(labels[top:top + h, left:left + w])).save(
            osp.join(label_dir, name + '.png'), 'PNG')


class CropWriter:
    """Loads item ``i`` of the dataset and writes its crops (picklable for workers)."""

    def __init__(self, dataset, img_dir: str, label_dir: str, ratio: float) -> None:
        self.dataset, self.img_dir, self.label_dir, self.ratio = (dataset, img_dir, label_dir,
                                                                  ratio)

    def __call__(self, index: int) -> None:
        results = self.dataset[index]
        image = np.ascontiguousarray(results['img'][:, :, ::-1])  # BGR → RGB
        if image.shape[:2] != results['gt_seg_map'].shape:
            raise ValueError(f"{results['img_path']} is {image.shape[:2]} but "
                             f"{results['seg_map_path']} is {results['gt_seg_map'].shape}.")
        write_crops(index, image, results['gt_seg_map'], self.img_dir, self.label_dir,
                    self.ratio)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Five-crop a USS training set (STEGO).')
    parser.add_argument('config', help='dataset config, e.g. configs/_base_/datasets/'
                        'cocostuff27.py')
    parser.add_argument('--split', default='train', choices=['train', 'val', 'test'])
    parser.add_argument('--name', required=True,
                        help='crop-set name: cocostuff27 or cityscapes as STEGO names them')
    parser.add_argument('--data-root', help="override the dataset's data_root")
    parser.add_argument('--ann-file', help='image list (e.g. a COCO-Stuff curated list)')
    parser.add_argument('--out-dir', help='default: <data_root>/cropped')
    parser.add_argument('--ratio', type=float, default=0.5)
    parser.add_argument('--nproc', type=int, default=1)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    ds_cfg = cfg[f'{args.split}_dataloader']['dataset'].copy()
    if args.data_root:
        ds_cfg['data_root'] = args.data_root
    if args.ann_file:
        ds_cfg['ann_file'] = args.ann_file
    ds_cfg['pipeline'] = source_pipeline(ds_cfg['pipeline'])
    ds_cfg['test_mode'] = True
    dataset = DATASETS.build(ds_cfg)
    out_dir = args.out_dir or osp.join(ds_cfg['data_root'], 'cropped')
    crop_dir = osp.join(out_dir, f'{args.name}_five_crop_{args.ratio}')
    img_dir = osp.join(crop_dir, 'img', args.split)
    label_dir = osp.join(crop_dir, 'label', args.split)
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(label_dir, exist_ok=True)
    writer = CropWriter(dataset, img_dir, label_dir, args.ratio)
    if args.nproc > 1:
        track_parallel_progress(writer, range(len(dataset)), args.nproc)
    else:
        track_progress(writer, range(len(dataset)))
    print(f'Wrote {5 * len(dataset)} crops to {crop_dir}')


if __name__ == '__main__':
    main()
