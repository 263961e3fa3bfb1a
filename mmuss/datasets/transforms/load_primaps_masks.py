"""Load a cached PriMaPs mask-id PNG into the sample's segmentation fields."""
import os.path as osp

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS
from PIL import Image


REGENERATE = ('recreate it with tools/precompute_primaps.py on this config (it recomputes '
              'invalid maps)')


def proposal_name(img_path: str) -> str:
    """File name of an image's mask-id PNG: the image's basename with ``.png``."""
    return osp.splitext(osp.basename(img_path))[0] + '.png'


def read_proposal(path: str) -> np.ndarray:
    """The ``H×W`` uint8 mask ids of a proposal PNG, fully decoded.

    Raises ``ValueError`` naming ``path`` and the tool that regenerates it
    when the file is truncated, not a PNG or not single-channel uint8.
    """
    try:
        with Image.open(path) as image:
            image.load()
            ids = np.asarray(image)
    except (OSError, SyntaxError, ValueError) as exc:
        raise ValueError(f'PriMaPs proposal {path} is unreadable ({exc}); delete it and '
                         f'{REGENERATE}.') from exc
    if ids.ndim != 2 or ids.dtype != np.uint8:
        raise ValueError(f'PriMaPs proposal {path} must be a single-channel uint8 PNG, got '
                         f'{ids.dtype} {ids.shape}; {REGENERATE}.')
    return ids


@TRANSFORMS.register_module()
class LoadPrimapsMasks(BaseTransform):
    """Add ``results[key]``: the ``H×W`` uint8 mask ids of ``proposal_root/<image>.png``.

    The map (255 = no mask, ``1…N`` = masks in extraction order) is written by
    ``tools/precompute_primaps.py`` at the geometry the pre-compute pipeline
    gives the image, so place this transform after the same deterministic
    resize/crop and before any random geometric transform: it registers
    ``key`` in ``seg_fields``, so flips, crops and resizes move it with the
    image (nearest interpolation).

    Args:
        proposal_root: Folder of the mask-id PNGs.
        key: Result key (and data-sample field after packing).
    """

    def __init__(self, proposal_root: str, key: str = 'gt_primaps') -> None:
        self.proposal_root = proposal_root
        self.key = key

    def transform(self, results: dict) -> dict:
        path = osp.join(self.proposal_root, proposal_name(results['img_path']))
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'No PriMaPs proposal {path} for image {results["img_path"]}; run '
                f'tools/precompute_primaps.py on this config first (or train with online '
                f'proposals).')
        ids = read_proposal(path)
        if ids.shape != results['img'].shape[:2]:
            raise ValueError(f'PriMaPs proposal {path} is {ids.shape} but image '
                             f'{results["img_path"]} is {results["img"].shape[:2]} at this '
                             f'point of the pipeline; pre-compute with the same resize/crop '
                             f'({REGENERATE}).')
        results[self.key] = ids
        seg_fields = results.setdefault('seg_fields', [])
        if self.key not in seg_fields:
            seg_fields.append(self.key)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(proposal_root={self.proposal_root!r}, key={self.key!r})'
