"""Segment your own images: ``python tools/infer.py CONFIG CHECKPOINT INPUT --out DIR``.

INPUT is an image, a folder (searched recursively) or a glob pattern (quote it). For each
image ``<name>.<ext>`` it writes, at the original image size,

- ``DIR/labels/<name>.png``: class ids when the checkpoint (or ``--matching``) carries a
  cluster→class matching (255 = unmatched cluster), else cluster ids;
- ``DIR/overlays/<name>.jpg``: the image with the coloured labels drawn by mmseg's
  ``SegLocalVisualizer``.

Images go through the config's test pipeline without its labels and evaluation crops; for a ViT
each is cropped to a multiple of the patch size (never zero-padded). Images whose longer side
exceeds ``--max-size`` (2048) are downscaled first and their labels scaled back. An unreadable
image, one with non-finite values or one smaller than a patch is reported by name and skipped;
the exit status is then 1.
"""
import argparse
import glob
import os.path as osp
import sys
from typing import List, Optional, Sequence, Tuple

import cv2
import mmcv
import numpy as np
import torch
from mmengine.config import DictAction
from mmengine.structures import PixelData
from mmengine.utils import ProgressBar
from mmseg.structures import SegDataSample
from mmseg.utils import get_palette
from mmseg.visualization import SegLocalVisualizer

import mmuss  # noqa: F401  (registers components; torch>=2.6 checkpoint loading)
from mmuss.apis import inference, init_model
from mmuss.apis.inference import model_num_clusters
from mmuss.datasets.image_folder_dataset import IMAGE_SUFFIXES, list_images
from mmuss.utils import IGNORE_INDEX
from mmuss.utils.fileio import atomic_write
from mmuss.apis.tool_args import add_trust_checkpoint_arg
from mmuss.visualization import cluster_palette, fit_palette



def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Segment images with a trained model')
    parser.add_argument('config', help='config file (its test_pipeline prepares the images)')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('input', help='an image, a folder of images, or a glob pattern')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--device', default='cpu', help='torch device, e.g. cuda:0')
    parser.add_argument('--batch-size', type=int, default=1, help='images per forward pass')
    parser.add_argument('--crf', action='store_true', help='dense CRF refinement')
    parser.add_argument('--flip', action='store_true', help='horizontal-flip averaging')
    parser.add_argument('--matching', help='cluster→class matching JSON (from tools/test.py '
                        'or training) overriding the checkpoint\'s')
    parser.add_argument('--clusters', action='store_true',
                        help='write cluster ids even when a matching is known')
    parser.add_argument('--palette', default='auto',
                        help="'auto' (the matching's class colours, else distinct cluster "
                        "colours), 'clusters', or an mmseg dataset name (e.g. cityscapes)")
    parser.add_argument('--opacity', type=float, default=0.5,
                        help='opacity of the labels in the overlay, in (0, 1]')
    parser.add_argument('--no-names', action='store_true', help='do not write label names')
    parser.add_argument('--max-size', type=int, default=2048,
                        help='downscale images whose longer side exceeds this many pixels '
                        'before inference (labels are written at the original size); 0: never')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings')
    add_trust_checkpoint_arg(parser)
    args = parser.parse_args(argv)
    if args.max_size < 0:
        parser.error(f'--max-size must be >= 0, got {args.max_size}.')
    if not 0 < args.opacity <= 1:
        parser.error(f'--opacity must be in (0, 1], got {args.opacity}.')
    if args.batch_size < 1:
        parser.error(f'--batch-size must be >= 1, got {args.batch_size}.')
    return args


def expand_input(spec: str, suffixes: Sequence[str] = IMAGE_SUFFIXES) -> Tuple[List[str], str]:
    """Image paths named by ``spec`` (file, folder or glob) and the root of their names."""
    if osp.isfile(spec):
        return [spec], osp.dirname(osp.abspath(spec))
    if osp.isdir(spec):
        return [osp.join(spec, name) for name in list_images(spec, suffixes)], spec
    wanted = tuple(s.lower() for s in suffixes)
    paths = sorted(p for p in glob.glob(spec, recursive=True)
                   if osp.isfile(p) and p.lower().endswith(wanted))
    if not paths:
        raise FileNotFoundError(f'INPUT {spec!r} is neither an image, a folder, nor a glob '
                                f'matching images ({", ".join(suffixes)}).')
    return paths, osp.commonpath([osp.dirname(osp.abspath(p)) for p in paths])


def output_stems(paths: Sequence[str], root: str) -> List[str]:
    """Output names: each path relative to ``root`` without its suffix; clashes are an error."""
    stems = [osp.splitext(osp.relpath(osp.abspath(p), osp.abspath(root)))[0] for p in paths]
    seen = {}
    for path, stem in zip(paths, stems, strict=True):
        if stem in seen:
            raise ValueError(f'{seen[stem]} and {path} would write the same outputs {stem}.*; '
                             f'rename one of them.')
        seen[stem] = path
    return stems


def label_names_and_palette(model, use_classes: bool,
                            palette_name: str) -> Tuple[List[str], List[List[int]]]:
    """Names and colours of the labels written: the matched classes or the clusters."""
    if use_classes:
        record = model.matching
        names = record['classes'] or [
            f'class {c}' for c in range(max(record['cluster_to_class']) + 1)]
        default = record['palette']
    else:
        names = [f'cluster {k}' for k in range(model_num_clusters(model))]
        default = None
    if palette_name == 'auto':
        return names, fit_palette(default, len(names))
    if palette_name == 'clusters':
        return names, cluster_palette(len(names))
    palette = [list(map(int, c)) for c in get_palette(palette_name)]
    if len(palette) < len(names):
        raise ValueError(f'--palette {palette_name} has {len(palette)} colours for '
                         f'{len(names)} labels.')
    return names, palette[:len(names)]


def label_dtype(num_labels: int) -> type:
    """uint8 when the labels and the unmatched value 255 fit, else uint16."""
    return np.uint8 if num_labels < IGNORE_INDEX else np.uint16


def read_image(path: str) -> np.ndarray:
    """``H×W×3`` BGR uint8 image; ``ValueError`` naming ``path`` when unreadable."""
    try:
        image = mmcv.imread(path)
    except Exception as exc:  # decoders raise many types; all mean "unreadable"
        raise ValueError(f'cannot read {path}: {exc}') from exc
    if image is None:
        raise ValueError(f'cannot decode {path}')
    return image


def limit_size(image: np.ndarray, max_size: int, path: str) -> np.ndarray:
    """``image`` downscaled so its longer side is ``max_size`` (0: unchanged), saying so."""
    height, width = image.shape[:2]
    if not max_size or max(height, width) <= max_size:
        return image
    scale = max_size / max(height, width)
    size = (max(round(width * scale), 1), max(round(height * scale), 1))
    print(f'\n{path}: {height}x{width} exceeds --max-size {max_size}; inferring at '
          f'{size[1]}x{size[0]} and scaling the labels back.', file=sys.stderr)
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def predict(model, paths: Sequence[str], images: Sequence[np.ndarray],
            args: argparse.Namespace) -> List[Tuple[str, object]]:
    """``(path, result or error message)`` per image; one bad image does not stop the others."""
    options = dict(flip=args.flip or None, crf=args.crf or None)
    try:
        return list(zip(paths, inference(model, list(images), batch_size=args.batch_size,
                                         **options), strict=True))
    except ValueError:
        if len(images) == 1:
            raise
    outcomes = []
    for path, image in zip(paths, images, strict=True):
        try:
            outcomes.append((path, inference(model, image, **options)))
        except ValueError as exc:
            outcomes.append((path, str(exc)))
    return outcomes


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    paths, root = expand_input(args.input)
    stem_of = dict(zip(paths, output_stems(paths, root), strict=True))
    model = init_model(args.config, args.checkpoint, args.device, args.cfg_options, args.matching)
    use_classes = model.matching is not None and not args.clusters
    names, palette = label_names_and_palette(model, use_classes, args.palette)
    visualizer = SegLocalVisualizer(name='mmuss_infer', alpha=args.opacity)
    visualizer.dataset_meta = dict(classes=names, palette=palette)
    dtype = label_dtype(len(names))
    failed: List[str] = []
    progress = ProgressBar(len(paths))
    for start in range(0, len(paths), args.batch_size):
        chunk, images, inputs = [], [], []
        for path in paths[start:start + args.batch_size]:
            try:
                image = read_image(path)
            except ValueError as exc:
                failed.append(path)
                print(f'\nSkipping {path}: {exc}', file=sys.stderr)
                progress.update()
                continue
            chunk.append(path)
            images.append(image)
            inputs.append(limit_size(image, args.max_size, path))
        if not images:
            continue
        try:
            outcomes = predict(model, chunk, inputs, args)
        except ValueError as exc:
            outcomes = [(chunk[0], str(exc))]
        for (path, result), image in zip(outcomes, images, strict=True):
            if isinstance(result, str):
                failed.append(path)
                print(f'\nSkipping {path}: {result}', file=sys.stderr)
                progress.update()
                continue
            pred = result.pred_class_sem_seg if use_classes else result.pred_sem_seg
            labels = pred.data[0].cpu().numpy()
            if labels.shape != image.shape[:2]:
                labels = cv2.resize(labels.astype(np.int32).astype(np.float32),
                                    image.shape[1::-1], interpolation=cv2.INTER_NEAREST)
            stem = stem_of[path]
            ids = labels.astype(dtype)
            atomic_write(osp.join(args.out, 'labels', f'{stem}.png'),
                         lambda tmp: mmcv.imwrite(ids, tmp), '.png')
            sample = SegDataSample(pred_sem_seg=PixelData(data=torch.from_numpy(
                labels.astype(np.int64))[None]))
            visualizer.add_datasample(stem, mmcv.bgr2rgb(image), sample, draw_gt=False,
                                      out_file=osp.join(args.out, 'overlays', f'{stem}.jpg'),
                                      with_labels=not args.no_names)
            progress.update()
    print(f'\nWrote {len(paths) - len(failed)} label maps and overlays to {args.out}'
          f' ({"class" if use_classes else "cluster"} ids).')
    if failed:
        print(f'{len(failed)} image(s) skipped: {", ".join(failed)}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
