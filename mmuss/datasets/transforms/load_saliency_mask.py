"""Load the offline saliency mask stored beside an image (docs/methods/maskcontrast.md)."""
import os.path as osp
from typing import Optional

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmseg.registry import TRANSFORMS


def binarise_saliency(saliency: np.ndarray, threshold: int = 255) -> np.ndarray:
    """``H×W`` or ``H×W×C`` 8-bit saliency → ``H×W`` uint8 mask ``[s >= threshold]``.

    Multi-channel files use their red channel (PIL's channel 0). The default
    ``threshold=255`` reproduces the reference loader, where only 255 becomes
    foreground (``ToTensor`` then a cast to long, docs/methods/maskcontrast.md Q4).
    """
    if saliency.ndim == 3:
        saliency = saliency[..., 2] if saliency.shape[2] >= 3 else saliency[..., 0]
    return (saliency >= threshold).astype(np.uint8)


def remove_small_components(mask: np.ndarray, min_fraction: float) -> np.ndarray:
    """Erase foreground components smaller than ``min_fraction`` of the image.

    A component is an 8-connected set of foreground pixels and its size is its
    pixel count. (The reference erases every filled OpenCV contour whose
    polygon area is below 1 % of the image; pixel counts differ from polygon
    areas only along the boundary.)

    Args:
        mask: ``H×W`` binary uint8 mask.
        min_fraction: Minimum component size as a fraction of ``H·W``.

    Returns:
        The cleaned ``H×W`` uint8 mask.
    """
    if min_fraction <= 0 or not mask.any():
        return mask
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_fraction * mask.size
    keep[0] = False
    return keep[labels].astype(np.uint8)


def saliency_path_for(img_path: str, saliency_dir: Optional[str], suffix: str) -> str:
    """``<root>/<img folder>/<name>.jpg`` → ``<root>/<saliency_dir>/<name><suffix>``.

    With ``saliency_dir=None`` the mask lies in the image's own folder.
    """
    folder, name = osp.split(img_path)
    stem = osp.splitext(name)[0]
    if saliency_dir is not None:
        folder = osp.join(osp.dirname(folder), saliency_dir)
    return osp.join(folder, stem + suffix)


@TRANSFORMS.register_module()
class LoadSaliencyMask(BaseTransform):
    """Read an image's 0/255 saliency PNG into ``results['gt_saliency']`` (0/1).

    The mask is found at ``results['sal_path']`` if the dataset provides it,
    otherwise in the folder ``saliency_dir`` next to the image folder (VOC:
    ``JPEGImages/2007_000032.jpg`` → ``saliency_supervised_model/2007_000032.png``).
    It is binarised with :func:`binarise_saliency`, cleaned of small
    components with :func:`remove_small_components` and registered in
    ``seg_fields`` so mmseg's geometric transforms move it with the image.

    A missing mask raises ``FileNotFoundError`` naming the image. An empty mask
    loads as all zeros; :class:`MaskContrastViews` then rejects its views and
    the dataset draws another image (the reference drops such images:
    docs/methods/maskcontrast.md eq. 14).

    Args:
        saliency_dir: Folder beside the image folder holding the masks, or
            ``None`` for the image's own folder.
        suffix: Mask file suffix.
        threshold: Foreground iff value ``>= threshold`` (255: reference).
        min_component_fraction: Erase components below this fraction of the
            image (0.01; 0 disables).
        backend_args: mmengine file backend arguments.
    """

    def __init__(self,
                 saliency_dir: Optional[str] = 'saliency_supervised_model',
                 suffix: str = '.png',
                 threshold: int = 255,
                 min_component_fraction: float = 0.01,
                 backend_args: Optional[dict] = None) -> None:
        if not 0 < threshold <= 255:
            raise ValueError(f'threshold must be in (0, 255], got {threshold}.')
        self.saliency_dir = saliency_dir
        self.suffix = suffix
        self.threshold = threshold
        self.min_component_fraction = min_component_fraction
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        img_path = results.get('img_path', '<no img_path>')
        path = results.get('sal_path') or saliency_path_for(img_path, self.saliency_dir,
                                                            self.suffix)
        try:
            content = fileio.get(path, backend_args=self.backend_args)
            raw = mmcv.imfrombytes(content, flag='unchanged')
        except FileNotFoundError:
            raise FileNotFoundError(f'No saliency mask for image {img_path}: expected {path}. '
                                    f'Generate masks (tools/maskcontrast_dino_saliency.py) or '
                                    f'list only images that have one in the split file.')
        if raw is None:
            raise ValueError(f'Saliency mask {path} of image {img_path} is not a readable image.')
        mask = remove_small_components(binarise_saliency(raw, self.threshold),
                                       self.min_component_fraction)
        img = results.get('img')
        if img is not None and img.shape[:2] != mask.shape:
            raise ValueError(f'Saliency mask {path} is {mask.shape} but image {img_path} is '
                             f'{img.shape[:2]}.')
        results['sal_path'] = path
        results['gt_saliency'] = mask
        results.setdefault('seg_fields', [])
        if 'gt_saliency' not in results['seg_fields']:
            results['seg_fields'].append('gt_saliency')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(saliency_dir={self.saliency_dir!r}, '
                f'suffix={self.suffix!r}, threshold={self.threshold}, '
                f'min_component_fraction={self.min_component_fraction})')

