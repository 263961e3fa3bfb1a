"""Write MaskContrast saliency masks from a frozen DINO backbone's last-block CLS attention.

For every image of a split: the image is resized to the next multiple of the
patch size, the backbone runs once, and the last block's CLS → patch attention
(softmax over all tokens, averaged over heads) gives one value per patch. The
patches holding the top ``--mass`` of that attention (DINO's attention-map
threshold, 0.6 by default) form the mask, which is resized to the image
(nearest) and post-processed as MaskContrast's masks
(docs/methods/maskcontrast.md eq. 14): components smaller than 1 % of the image
are erased, and an image left with < 1 % salient pixels gets no PNG and is left
out of the written split list. Masks are 0/255 PNGs, exactly what
:class:`LoadSaliencyMask` reads.

The attention is the backbone's ``cls_attn`` output (``out_cls_attn=True``),
so DINO, DINOv2 and DINOv3 (RoPE) backbones all serve. Images are normalised
as the config's ``model.data_preprocessor`` says (:class:`PixelNormaliser`;
without one: ImageNet statistics on RGB).
With ``--compare-dir`` the masks are scored against other
masks of the same images (e.g. the reference's ``saliency_supervised_model``)
and the mean IoU is reported.

Prints ONE JSON line on stdout: images, masks written, images dropped, and
the mean IoU against the comparison masks when given; the progress bar and
all logs go to stderr.

Usage::

    python tools/maskcontrast_dino_saliency.py data/VOCdevkit/VOC2012 \\
        --split ImageSets/Segmentation/trainaug.txt --out-dir saliency_dino_vit-s16 \\
        --list-out ImageSets/Segmentation/trainaug_dino_saliency.txt \\
        --compare-dir saliency_supervised_model
"""
import argparse
import json
import os.path as osp
import sys
from pathlib import Path
from typing import List, Optional, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from torch import Tensor
from tqdm import tqdm

import mmuss  # noqa: F401  (registers the backbones)
from mmuss.apis.tool_output import logs_to_stderr
from mmuss.datasets.transforms.load_saliency_mask import binarise_saliency, remove_small_components
from mmuss.apis.tool_args import add_trust_checkpoint_arg
from mmuss.models.backbones.base_dino_vit import BaseDinoViT
from mmuss.models.utils.images import PixelNormaliser
from mmuss.utils.fileio import atomic_write, atomic_write_text

REPO = Path(__file__).resolve().parents[1]


def top_mass_mask(attention: Tensor, mass: float) -> Tensor:
    """Keep the largest entries that together hold ``mass`` of the total.

    Entries are taken in decreasing order while the mass collected *before*
    each one is below ``mass``; e.g. ``[0.5, 0.3, 0.1, 0.1]`` with 0.6 keeps
    the first two.

    Args:
        attention: ``h×w`` non-negative values.
        mass: Fraction in ``(0, 1]``.

    Returns:
        ``h×w`` bool mask.
    """
    flat = attention.flatten() / attention.sum().clamp_min(1e-12)
    values, order = flat.sort(descending=True)
    before = values.cumsum(0) - values
    keep = torch.zeros_like(flat, dtype=torch.bool)
    keep[order] = before < mass
    return keep.view_as(attention)


def cls_attention(backbone: BaseDinoViT, images: Tensor) -> Tensor:
    """Last-block CLS → patch attention, softmax over all tokens, mean over heads.

    Args:
        backbone: A DINO-family backbone built with ``out_cls_attn=True``.
        images: ``B×3×H×W`` normalised images, multiples of the patch size.

    Returns:
        ``B×h×w`` attention of the CLS token to each patch.
    """
    with torch.no_grad():
        return backbone(images).get('cls_attn').mean(dim=1)


def saliency_mask(backbone: BaseDinoViT, pixels: PixelNormaliser, image_bgr: np.ndarray,
                  mass: float, min_fraction: float) -> np.ndarray:
    """``H×W`` uint8 0/1 saliency of one BGR image (see the module docstring)."""
    height, width = image_bgr.shape[:2]
    patch = backbone.patch_size
    size = (-(-width // patch) * patch, -(-height // patch) * patch)
    resized = cv2.resize(image_bgr, size, interpolation=cv2.INTER_CUBIC)
    x = pixels.normalise(torch.from_numpy(resized.transpose(2, 0, 1).copy())[None])
    keep = top_mass_mask(cls_attention(backbone, x)[0], mass)
    mask = F.interpolate(keep[None, None].float(), size=(height, width), mode='nearest')[0, 0]
    return remove_small_components(mask.numpy().astype(np.uint8), min_fraction)


def build_backbone(config: str, checkpoint: Optional[str]) -> Tuple[BaseDinoViT, PixelNormaliser]:
    """The backbone of ``config`` (``model.backbone``, weights from ``checkpoint`` if given)
    returning its CLS attention, and the normaliser of its input images."""
    cfg = Config.fromfile(config)
    backbone_cfg = cfg.model.backbone
    backbone_cfg.out_cls_attn = True
    if checkpoint == 'none':
        backbone_cfg.init_cfg = None
    elif checkpoint:
        backbone_cfg.init_cfg = dict(type='Pretrained', checkpoint=checkpoint)
    init_default_scope('mmseg')
    pixels = (PixelNormaliser.of(MODELS.build(cfg.model.data_preprocessor))
              if 'data_preprocessor' in cfg.model else PixelNormaliser(bgr_to_rgb=True))
    backbone = MODELS.build(backbone_cfg)
    if not isinstance(backbone, BaseDinoViT):
        raise TypeError(f'{config} does not configure a DINO-family backbone '
                        f'(got {type(backbone).__name__}).')
    backbone.init_weights()
    return backbone.eval(), pixels


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two binary masks (1 when both are empty)."""
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('data_root')
    parser.add_argument('--split', required=True, help='id list, relative to data_root')
    parser.add_argument('--img-dir', default='JPEGImages')
    parser.add_argument('--img-suffix', default='.jpg')
    parser.add_argument('--out-dir', default='saliency_dino_vit-s16',
                        help='mask folder, relative to data_root')
    parser.add_argument('--list-out', default=None,
                        help='split file of the ids that got a mask, relative to data_root')
    parser.add_argument('--backbone-config',
                        default=str(REPO / 'configs' / '_base_' / 'models' / 'dino-vit-s16.py'))
    parser.add_argument('--checkpoint', default=None,
                        help="backbone weights (path/URL); 'none' for random weights")
    parser.add_argument('--mass', type=float, default=0.6)
    parser.add_argument('--min-fraction', type=float, default=0.01)
    parser.add_argument('--compare-dir', default=None,
                        help='folder of 0/255 masks to score against, relative to data_root')
    add_trust_checkpoint_arg(parser)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    logs_to_stderr()
    if not 0 < args.mass <= 1:
        raise ValueError(f'--mass must be in (0, 1], got {args.mass}.')
    root = Path(args.data_root)
    split = root / args.split
    if not split.is_file():
        raise FileNotFoundError(f'Split file {split} does not exist.')
    ids = [line.strip() for line in split.read_text().splitlines() if line.strip()]
    backbone, pixels = build_backbone(args.backbone_config, args.checkpoint)
    out_dir = root / args.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    kept, ious = [], []
    for name in tqdm(ids, desc='DINO saliency', unit='image', file=sys.stderr,
                     dynamic_ncols=True):
        path = root / args.img_dir / f'{name}{args.img_suffix}'
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f'Cannot read image {path} (listed in {split}).')
        mask = saliency_mask(backbone, pixels, image, args.mass, args.min_fraction)
        if mask.mean() < args.min_fraction:
            continue
        atomic_write(str(out_dir / f'{name}.png'), lambda tmp: cv2.imwrite(tmp, mask * 255), '.png')
        kept.append(name)
        if args.compare_dir:
            ref = root / args.compare_dir / f'{name}.png'
            if osp.isfile(ref):
                ious.append(mask_iou(mask, binarise_saliency(
                    cv2.imread(str(ref), cv2.IMREAD_UNCHANGED))))
    if args.list_out:
        atomic_write_text(str(root / args.list_out), ''.join(f'{n}\n' for n in kept))
    result = dict(images=len(ids), written=len(kept), dropped=len(ids) - len(kept))
    if args.compare_dir:
        result.update(compared=len(ious),
                      mean_iou_vs_reference=round(float(np.mean(ious)), 4) if ious else None)
    print(json.dumps(result))
    return result


if __name__ == '__main__':
    main()
