"""MaskContrast's two object-centric views of one image with their saliency masks.

Settings: docs/methods/maskcontrast.md#hyper-parameters.
"""
import copy
from typing import List, Optional

import numpy as np
from mmcv.transforms import BaseTransform, Compose
from mmseg.registry import TRANSFORMS

from .pack_multi_view_seg_inputs import add_view


def foreground_fraction(mask: np.ndarray) -> float:
    """Fraction of non-zero pixels of a mask."""
    return float(np.count_nonzero(mask)) / mask.size


def copy_results(results: dict) -> dict:
    """A copy of a pipeline results dict whose lists and arrays the views can change."""
    out = dict(results)
    for key, value in results.items():
        if isinstance(value, (list, dict, np.ndarray)):
            out[key] = copy.deepcopy(value)
    return out


@TRANSFORMS.register_module()
class MaskContrastViews(BaseTransform):
    """Apply one view pipeline twice, independently, to make the query and key views.

    The view pipeline is ordinary mmseg/mmcv transforms (e.g.
    :class:`SegRandomResizedCrop`, ColorJitter, grayscale, ``RandomFlip``);
    geometric ones move ``gt_saliency`` with the image because
    :class:`LoadSaliencyMask` registered it in ``seg_fields``.

    Area filter (docs/methods/maskcontrast.md#hyper-parameters): both views'
    saliency must cover a fraction in ``(min_foreground, max_foreground)``;
    otherwise both views are drawn again, up to ``max_tries`` times, after
    which the transform returns ``None`` and mmengine's dataset draws a random
    other image, as the reference does. An image with an empty mask therefore
    never reaches the model.

    Output keys: ``img``/``gt_saliency`` and the query view's metadata
    (``img_shape``, ``flip``, ...), plus ``key_img``/``gt_key_saliency`` for
    the key view; :class:`PackMultiViewSegInputs` packs them (``pixel_keys=['gt_saliency',
    'gt_key_saliency']``).

    Args:
        view_pipeline: Transform configs of one view.
        min_foreground: Lower bound (exclusive) of a view's salient fraction.
        max_foreground: Upper bound (exclusive).
        max_tries: Redraws before giving up on the image.
    """

    def __init__(self,
                 view_pipeline: List[dict],
                 min_foreground: float = 0.01,
                 max_foreground: float = 0.99,
                 max_tries: int = 3) -> None:
        if not 0 <= min_foreground < max_foreground <= 1:
            raise ValueError(f'Need 0 <= min_foreground < max_foreground <= 1, got '
                             f'{min_foreground}, {max_foreground}.')
        if max_tries < 1:
            raise ValueError(f'max_tries must be >= 1, got {max_tries}.')
        self.view_pipeline = Compose(view_pipeline)
        self.min_foreground = min_foreground
        self.max_foreground = max_foreground
        self.max_tries = max_tries

    def valid(self, view: Optional[dict]) -> bool:
        """Whether a view exists and its salient fraction is inside the bounds."""
        if view is None:
            return False
        frac = foreground_fraction(view['gt_saliency'])
        return self.min_foreground < frac < self.max_foreground

    def transform(self, results: dict) -> Optional[dict]:
        if 'gt_saliency' not in results:
            raise KeyError(f'MaskContrastViews needs gt_saliency (put LoadSaliencyMask before '
                           f'it) for image {results.get("img_path")}.')
        for _ in range(self.max_tries):
            query = self.view_pipeline(copy_results(results))
            key = self.view_pipeline(copy_results(results))
            if self.valid(query) and self.valid(key):
                add_view(query, 'key_img', key['img'])
                query['gt_key_saliency'] = key['gt_saliency']
                return query
        return None

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(view_pipeline={self.view_pipeline}, '
                f'min_foreground={self.min_foreground}, max_foreground={self.max_foreground}, '
                f'max_tries={self.max_tries})')
