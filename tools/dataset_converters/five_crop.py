"""Write a cropped training set: STEGO's five crops or CAUSE's PASCAL VOC "super" crops.

``python tools/dataset_converters/five_crop.py CONFIG --split train --name NAME
[--crop-type {five,super}] [--cfg-options data_root=...]``

Every image of the config's ``<split>_dataloader`` dataset (full resolution,
labels mapped by the pipeline's ``LabelLUT``) gives

- ``five`` (STEGO, docs/methods/stego.md eq. 13, Q10): five crops of
  ``(floor(H*r), floor(W*r))`` in torchvision's ``five_crop`` order (top-left,
  top-right, bottom-left, bottom-right, centre), ``r = --ratio`` (0.5);
- ``super`` (CAUSE on PASCAL VOC, docs/methods/cause.md): for ``r`` in 0.3,
  0.4, 0.5, 0.6, 0.7 torchvision's ``ten_crop``, i.e. those five crops of the
  image, then the five crops of its horizontal flip: 50 crops per image.

Crop ``j`` of item ``i`` is saved as ``<i*n+j>.jpg`` (PIL JPEG, default quality
75) and ``<i*n+j>.png`` holding ``label + 1`` (0 = ignore), ``n`` crops per
item, under ``<out-dir>/<name>_five_crop_<r>/`` or ``<out-dir>/<name>_super_crop_0/``
(``{img,label}/<split>/``) — the layout the reference ``CroppedDataset`` reads
and ``configs/_base_/datasets/*_five_crop.py``, ``configs/_base_/cause/cause_train_*.py``
use. Items are numbered in the dataset's order (sorted paths for Cityscapes, the
image list's order for COCO-Stuff and VOC). Every file is written under a
temporary name and renamed, so an interrupted run leaves no partial file.
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Optional, Tuple

import numpy as np
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.utils import track_parallel_progress, track_progress
from mmseg.registry import DATASETS
from PIL import Image

import mmuss  # noqa: F401  (registers the datasets and transforms)
from mmuss.utils.fileio import atomic_write
from mmuss.utils import IGNORE_INDEX
from mmuss.utils.cfg_options import merge_cfg_options
from mmuss.apis.tool_args import add_cfg_options_arg

#: Crop ratios of CAUSE's ``super`` crops (reference ``crop_dataset.py``), one ten-crop each.
SUPER_RATIOS = (0.3, 0.4, 0.5, 0.6, 0.7)
#: ``(flip, top, left, height, width)``: a crop of the image or of its horizontal flip.
View = Tuple[bool, int, int, int, int]


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


def crop_views(height: int, width: int, crop_type: str, ratio: float = 0.5) -> List[View]:
    """Every crop of one ``height × width`` image, in file order.

    ``'five'``: :func:`five_crop_boxes` at ``ratio``. ``'super'``: for each of
    :data:`SUPER_RATIOS` torchvision's ``ten_crop`` — the five boxes on the
    image, then the same five boxes on its horizontal flip (``ratio`` unused).
    """
    if crop_type == 'five':
        return [(False, *box) for box in five_crop_boxes(height, width, ratio)]
    if crop_type == 'super':
        return [(flip, *box) for r in SUPER_RATIOS for flip in (False, True)
                for box in five_crop_boxes(height, width, r)]
    raise ValueError(f"crop_type must be 'five' or 'super', got {crop_type!r}.")


def crop_set_name(name: str, crop_type: str, ratio: float) -> str:
    """Folder name of a crop set, as the references name it (``super``: crop ratio 0)."""
    return f'{name}_five_crop_{ratio}' if crop_type == 'five' else f'{name}_super_crop_0'


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


def save_atomic(array: np.ndarray, path: str, fmt: str) -> None:
    """``Image.fromarray(array).save(path, fmt)`` through a temporary file and a rename."""
    image = Image.fromarray(np.ascontiguousarray(array))
    atomic_write(path, lambda tmp: image.save(tmp, fmt))


def write_crops(index: int, image: np.ndarray, labels: np.ndarray, img_dir: str,
                label_dir: str, crop_type: str, ratio: float) -> None:
    """Save every crop of one RGB image and its USS labels."""
    views = crop_views(*labels.shape, crop_type, ratio)
    flipped = (image[:, ::-1], labels[:, ::-1])
    for j, (flip, top, left, h, w) in enumerate(views):
        img, lab = flipped if flip else (image, labels)
        name = str(index * len(views) + j)
        save_atomic(img[top:top + h, left:left + w], osp.join(img_dir, name + '.jpg'), 'JPEG')
        save_atomic(shifted_labels(lab[top:top + h, left:left + w]),
                    osp.join(label_dir, name + '.png'), 'PNG')


class CropWriter:
    """Loads item ``i`` of the dataset and writes its crops (picklable for workers)."""

    def __init__(self, dataset, img_dir: str, label_dir: str, crop_type: str,
                 ratio: float) -> None:
        self.dataset, self.img_dir, self.label_dir = dataset, img_dir, label_dir
        self.crop_type, self.ratio = crop_type, ratio

    def __call__(self, index: int) -> None:
        results = self.dataset[index]
        image = np.ascontiguousarray(results['img'][:, :, ::-1])  # BGR → RGB
        if image.shape[:2] != results['gt_seg_map'].shape:
            raise ValueError(f"{results['img_path']} is {image.shape[:2]} but "
                             f"{results['seg_map_path']} is {results['gt_seg_map'].shape}.")
        write_crops(index, image, results['gt_seg_map'], self.img_dir, self.label_dir,
                    self.crop_type, self.ratio)


def check_sources(ds_cfg: dict) -> None:
    """Name a missing image list or image folder before the dataset class asserts on it."""
    root = ds_cfg.get('data_root') or ''
    ann_file = ds_cfg.get('ann_file') or ''
    if ann_file and not osp.isfile(osp.join(root, ann_file)):
        raise FileNotFoundError(f'Image list {osp.join(root, ann_file)} does not exist: pass '
                                f'--cfg-options data_root=... (the folder holding it) or '
                                f'--ann-file.')
    img_dir = osp.join(root, ds_cfg.get('data_prefix', {}).get('img_path', ''))
    if not osp.isdir(img_dir):
        raise FileNotFoundError(f'Image folder {img_dir} does not exist: pass --cfg-options '
                                f'data_root=...')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Crop a USS training set: STEGO's five crops or CAUSE's VOC super crops.")
    parser.add_argument('config', help='dataset config, e.g. configs/_base_/datasets/'
                        'cocostuff27.py or pascal_voc.py')
    parser.add_argument('--split', default='train', choices=['train', 'val', 'test'])
    parser.add_argument('--name', required=True,
                        help='crop-set name as the references name it: cocostuff27, '
                        'cityscapes (five), pascalvoc (super)')
    parser.add_argument('--crop-type', default='five', choices=['five', 'super'],
                        help="five: STEGO's five crops at --ratio; super: CAUSE's ten crops "
                        'at each of the ratios 0.3..0.7 (PASCAL VOC)')
    parser.add_argument('--ann-file', help='image list (e.g. a COCO-Stuff curated list)')
    parser.add_argument('--out-dir', help='default: <data_root>/cropped')
    parser.add_argument('--ratio', type=float, help='five crops: crop ratio (default 0.5)')
    parser.add_argument('--nproc', type=int, default=1)
    add_cfg_options_arg(parser)
    args = parser.parse_args(argv)
    if args.crop_type == 'super' and args.ratio is not None:
        parser.error('--ratio applies to --crop-type five; super crops use the ratios '
                     f'{SUPER_RATIOS}.')
    if args.ratio is None:
        args.ratio = 0.5
    return args


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    cfg = merge_cfg_options(Config.fromfile(args.config), args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    ds_cfg = cfg[f'{args.split}_dataloader']['dataset'].copy()
    if args.ann_file:
        ds_cfg['ann_file'] = args.ann_file
    check_sources(ds_cfg)
    ds_cfg['pipeline'] = source_pipeline(ds_cfg['pipeline'])
    ds_cfg['test_mode'] = True
    dataset = DATASETS.build(ds_cfg)
    out_dir = args.out_dir or osp.join(ds_cfg['data_root'], 'cropped')
    crop_dir = osp.join(out_dir, crop_set_name(args.name, args.crop_type, args.ratio))
    img_dir = osp.join(crop_dir, 'img', args.split)
    label_dir = osp.join(crop_dir, 'label', args.split)
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(label_dir, exist_ok=True)
    writer = CropWriter(dataset, img_dir, label_dir, args.crop_type, args.ratio)
    if args.nproc > 1:
        track_parallel_progress(writer, range(len(dataset)), args.nproc, file=sys.stderr)
    else:
        track_progress(writer, range(len(dataset)), file=sys.stderr)
    written = (5 if args.crop_type == 'five' else 10 * len(SUPER_RATIOS)) * len(dataset)
    held = len(os.listdir(img_dir))
    if held != written:
        print(f'Warning: {img_dir} holds {held} files but this run wrote {written}: files of '
              f'an earlier run? Delete {crop_dir} and run again.', file=sys.stderr)
    print(f'Wrote {written} crops to {crop_dir}')


if __name__ == '__main__':
    main()
