"""Random zoom and rotation about the image centre, same size out (MaskContrast's probe data)."""
from typing import Sequence, Tuple

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomScaleRotate(BaseTransform):
    """One affine warp ``scale s ~ U(scale)``, ``angle a ~ U(−degree, degree)`` about the centre.

    The output keeps the input size: zooming in crops, zooming out leaves a
    border filled with ``pad_val`` (image) and ``seg_pad_val`` (every map in
    ``seg_fields``). MaskContrast's linear-probe data uses ``scale=(0.75,
    1.25)``, ``degree=5``, bicubic images, nearest labels and a border of 0,
    i.e. *background* in the labels (docs/methods/maskcontrast.md Q9).

    Args:
        scale: Range of the zoom factor.
        degree: Maximum absolute rotation in degrees.
        interpolation: Image interpolation.
        pad_val: Image border value.
        seg_pad_val: Label border value.
    """

    def __init__(self, scale: Sequence[float] = (0.75, 1.25), degree: float = 5.0,
                 interpolation: str = 'bicubic', pad_val: int = 0, seg_pad_val: int = 0) -> None:
        if not 0 < scale[0] <= scale[1] or degree < 0:
            raise ValueError(f'Need 0 < scale[0] <= scale[1] and degree >= 0, got scale={scale}, '
                             f'degree={degree}.')
        self.scale = (float(scale[0]), float(scale[1]))
        self.degree = float(degree)
        self.interpolation = interpolation
        self.pad_val = pad_val
        self.seg_pad_val = seg_pad_val

    @cache_randomness
    def draw(self) -> Tuple[float, float]:
        return np.random.uniform(*self.scale), np.random.uniform(-self.degree, self.degree)

    def transform(self, results: dict) -> dict:
        scale, angle = self.draw()
        results['img'] = mmcv.imrotate(results['img'], angle, scale=scale,
                                       border_value=self.pad_val, interpolation=self.interpolation)
        for key in results.get('seg_fields', []):
            if results.get(key) is not None:
                results[key] = mmcv.imrotate(results[key], angle, scale=scale,
                                             border_value=self.seg_pad_val,
                                             interpolation='nearest')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, degree={self.degree}, '
                f'interpolation={self.interpolation!r})')
