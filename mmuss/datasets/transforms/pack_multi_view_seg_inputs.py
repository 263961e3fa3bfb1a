"""``PackSegInputs`` that also packs extra image views into the data sample."""
from typing import Sequence

import numpy as np
import torch
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS


def image_to_tensor(img: np.ndarray) -> torch.Tensor:
    """``H×W×C`` (or ``H×W``) array → contiguous ``C×H×W`` tensor, as ``PackSegInputs`` does."""
    if img.ndim < 3:
        img = img[..., None]
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


@TRANSFORMS.register_module()
class PackMultiViewSegInputs(PackSegInputs):
    """Pack as :class:`PackSegInputs` and store each ``results[key]`` image as a data-sample field.

    :class:`MultiViewSegmentor` reads these fields (``train_cfg.extra_views``),
    normalises them like the input and encodes them with the frozen backbone.

    Args:
        view_keys: Result keys of the extra views (e.g. ``('img_aug',)``).
        **kwargs: See :class:`PackSegInputs`.
    """

    def __init__(self, view_keys: Sequence[str] = ('img_aug', ), **kwargs) -> None:
        super().__init__(**kwargs)
        self.view_keys = tuple(view_keys)

    def transform(self, results: dict) -> dict:
        missing = [k for k in self.view_keys if k not in results]
        if missing:
            raise KeyError(f'PackMultiViewSegInputs: view(s) {missing} missing from the '
                           f'results; add e.g. PhotometricView before packing.')
        packed = super().transform(results)
        for key in self.view_keys:
            packed['data_samples'].set_field(image_to_tensor(results[key]), key)
        return packed
