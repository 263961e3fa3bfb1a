"""torchvision-style RandomResizedCrop applied jointly to the image and every seg map."""
import math
from typing import Sequence, Tuple

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmseg.registry import TRANSFORMS


def sample_resized_crop_box(height: int, width: int, scale: Tuple[float, float],
                            ratio: Tuple[float, float],
                            rng: np.random.RandomState) -> Tuple[int, int, int, int]:
    """torchvision's ``RandomResizedCrop.get_params`` rule: ``(top, left, h, w)``.

    Up to 10 draws of an area fraction ``a ~ U(scale)`` and an aspect ratio
    ``r = exp(U(log ratio))``, giving ``w = round(√(a·H·W·r))``,
    ``h = round(√(a·H·W / r))``; the first box that fits is placed uniformly.
    If none fits, the largest centred box whose aspect ratio is clamped into
    ``ratio`` is used.
    """
    area = height * width
    log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
    for _ in range(10):
        target = area * rng.uniform(scale[0], scale[1])
        aspect = math.exp(rng.uniform(log_lo, log_hi))
        w = round(math.sqrt(target * aspect))
        h = round(math.sqrt(target / aspect))
        if 0 < w <= width and 0 < h <= height:
            return int(rng.randint(0, height - h + 1)), int(rng.randint(0, width - w + 1)), h, w
    in_ratio = width / height
    if in_ratio < min(ratio):
        w, h = width, round(width / min(ratio))
    elif in_ratio > max(ratio):
        h, w = height, round(height * max(ratio))
    else:
        h, w = height, width
    return (height - h) // 2, (width - w) // 2, h, w


@TRANSFORMS.register_module()
class SegRandomResizedCrop(BaseTransform):
    """Random area/aspect crop resized to ``crop_size``, for image and seg maps alike.

    The box follows :func:`sample_resized_crop_box` (torchvision's rule, as
    MaskContrast's views: docs/methods/maskcontrast.md#hyper-parameters); the
    image is resized with ``interpolation``, every map in ``seg_fields`` with
    nearest neighbour, so masks stay aligned with pixels. The box is stored as
    ``results['crop_bbox'] = (x1, y1, x2, y2)``.

    Args:
        crop_size: Output ``(h, w)`` or one side.
        scale: Range of the crop's area fraction.
        ratio: Range of the crop's aspect ratio ``w/h``.
        interpolation: Image interpolation (``'bilinear'``; ``'nearest'`` in tests).
        backend: ``'cv2'`` or ``'pillow'`` resize backend.
    """

    def __init__(self,
                 crop_size: int | Sequence[int] = 224,
                 scale: Sequence[float] = (0.2, 1.0),
                 ratio: Sequence[float] = (3 / 4, 4 / 3),
                 interpolation: str = 'bilinear',
                 backend: str = 'cv2') -> None:
        crop_size = (crop_size, crop_size) if isinstance(crop_size, int) else tuple(crop_size)
        if len(crop_size) != 2 or min(crop_size) <= 0:
            raise ValueError(f'crop_size must be a positive int or (h, w), got {crop_size}.')
        if not 0 < scale[0] <= scale[1] <= 1 or not 0 < ratio[0] <= ratio[1]:
            raise ValueError(f'Need 0 < scale[0] <= scale[1] <= 1 and 0 < ratio[0] <= ratio[1], '
                             f'got scale={scale}, ratio={ratio}.')
        self.crop_size = crop_size
        self.scale = (float(scale[0]), float(scale[1]))
        self.ratio = (float(ratio[0]), float(ratio[1]))
        self.interpolation = interpolation
        self.backend = backend

    @cache_randomness
    def crop_box(self, height: int, width: int) -> Tuple[int, int, int, int]:
        return sample_resized_crop_box(height, width, self.scale, self.ratio, np.random)

    def transform(self, results: dict) -> dict:
        img = results['img']
        top, left, h, w = self.crop_box(*img.shape[:2])
        out_wh = (self.crop_size[1], self.crop_size[0])
        results['img'] = mmcv.imresize(img[top:top + h, left:left + w], out_wh,
                                       interpolation=self.interpolation, backend=self.backend)
        for key in results.get('seg_fields', []):
            if results.get(key) is not None:
                results[key] = mmcv.imresize(results[key][top:top + h, left:left + w], out_wh,
                                             interpolation='nearest', backend=self.backend)
        results['crop_bbox'] = (left, top, left + w, top + h)
        results['img_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(crop_size={self.crop_size}, scale={self.scale}, '
                f'ratio={self.ratio}, interpolation={self.interpolation!r})')
