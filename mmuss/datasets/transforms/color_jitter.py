"""torchvision-style ColorJitter on uint8 BGR images, without torchvision."""
from typing import Tuple

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmseg.registry import TRANSFORMS


def factor_range(value: float, name: str, centre: float, bound: Tuple[float, float]
                 ) -> Tuple[float, float]:
    """``value`` → ``[centre − value, centre + value]`` clipped to ``bound``."""
    if value < 0:
        raise ValueError(f'ColorJitter {name} must be >= 0, got {value}.')
    return max(bound[0], centre - value), min(bound[1], centre + value)


def shift_hue(img: np.ndarray, hue: float) -> np.ndarray:
    """Rotate the hue of a uint8 BGR image by ``hue`` of a full turn (``[-0.5, 0.5]``).

    Hue is OpenCV's full-range 8-bit hue (``COLOR_BGR2HSV_FULL``): ``h ← (h +
    round(256·hue)) mod 256``.
    """
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV_FULL)
    hsv[..., 0] = (hsv[..., 0].astype(np.int64) + round(256 * hue)) % 256
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL)


@TRANSFORMS.register_module()
class ColorJitter(BaseTransform):
    """Random brightness, contrast, saturation and hue in a random order (torchvision's rule).

    Factors are drawn uniformly: brightness/contrast/saturation from
    ``[max(0, 1 − x), 1 + x]``, hue from ``[−h, h]`` (fraction of a full turn);
    the four adjustments run in a random permutation, as
    ``torchvision.transforms.ColorJitter`` does. The adjustments are mmcv's
    ``adjust_brightness``/``adjust_contrast``/``adjust_color`` (blends with
    black / the mean grey / the grey image) and :func:`shift_hue` (mmcv's
    ``adjust_hue`` overflows on negative shifts with this numpy).
    mmpretrain's ColorJitter needs torchvision, which this stack lacks.

    Args:
        brightness: ``x`` for brightness.
        contrast: ``x`` for contrast.
        saturation: ``x`` for saturation.
        hue: ``h`` in ``[0, 0.5]``.
        backend: mmcv image backend (``'cv2'`` or ``'pillow'``).
    """

    def __init__(self, brightness: float = 0.0, contrast: float = 0.0, saturation: float = 0.0,
                 hue: float = 0.0, backend: str = 'cv2') -> None:
        self.brightness = factor_range(brightness, 'brightness', 1.0, (0.0, float('inf')))
        self.contrast = factor_range(contrast, 'contrast', 1.0, (0.0, float('inf')))
        self.saturation = factor_range(saturation, 'saturation', 1.0, (0.0, float('inf')))
        if not 0 <= hue <= 0.5:
            raise ValueError(f'ColorJitter hue must be in [0, 0.5], got {hue}.')
        self.hue = (-hue, hue)
        self.backend = backend

    @cache_randomness
    def draw(self) -> Tuple[np.ndarray, float, float, float, float]:
        order = np.random.permutation(4)
        return (order, np.random.uniform(*self.brightness), np.random.uniform(*self.contrast),
                np.random.uniform(*self.saturation), np.random.uniform(*self.hue))

    def transform(self, results: dict) -> dict:
        order, b, c, s, h = self.draw()
        img = results['img']
        for op in order:
            if op == 0 and self.brightness != (1.0, 1.0):
                img = mmcv.adjust_brightness(img, b, backend=self.backend)
            elif op == 1 and self.contrast != (1.0, 1.0):
                img = mmcv.adjust_contrast(img, c, backend=self.backend)
            elif op == 2 and self.saturation != (1.0, 1.0):
                img = mmcv.adjust_color(img, s, backend=self.backend)
            elif op == 3 and self.hue != (0.0, 0.0):
                img = shift_hue(img, h)
        results['img'] = img.astype(np.uint8)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(brightness={self.brightness}, '
                f'contrast={self.contrast}, saturation={self.saturation}, hue={self.hue})')
