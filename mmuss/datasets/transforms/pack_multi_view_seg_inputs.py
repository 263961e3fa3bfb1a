"""``PackSegInputs`` that also packs a sample's extra views and extra label maps."""
from typing import Sequence

import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS

VIEW_FIELDS = 'view_fields'
"""Results key listing the views transforms made (as ``seg_fields`` lists label maps)."""


def add_view(results: dict, key: str, image: np.ndarray) -> None:
    """Store ``image`` as the view ``results[key]`` and register it for packing."""
    results[key] = image
    fields = results.setdefault(VIEW_FIELDS, [])
    if key not in fields:
        fields.append(key)


def image_to_tensor(img: np.ndarray) -> torch.Tensor:
    """``H×W×C`` (or ``H×W``) array → contiguous ``C×H×W`` tensor, dtype kept."""
    img = img[..., None] if img.ndim == 2 else img
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


@TRANSFORMS.register_module()
class PackMultiViewSegInputs(PackSegInputs):
    """Pack as :class:`PackSegInputs`, plus every registered view and ``pixel_keys`` map.

    - Views: each image a transform stored with :func:`add_view`
      (:class:`PhotometricView`, :class:`NormalisedPhotometricView`,
      :class:`MaskContrastViews`) becomes a ``3×H×W`` data-sample field of
      the same name. :class:`FrozenBackboneSegmentor` encodes the ones its
      head names (``view_names``), normalised like the input.
    - ``pixel_keys``: ``H×W`` maps (PriMaPs mask ids, saliency masks) become
      ``PixelData`` fields of shape ``1×H×W`` (int64), next to ``gt_sem_seg``.

    Args:
        pixel_keys: Result keys of the extra maps.
        **kwargs: See :class:`PackSegInputs`.
    """

    def __init__(self, pixel_keys: Sequence[str] = (), **kwargs) -> None:
        super().__init__(**kwargs)
        self.pixel_keys = tuple(pixel_keys)

    def transform(self, results: dict) -> dict:
        missing = [k for k in self.pixel_keys if k not in results]
        if missing:
            raise KeyError(f'{type(self).__name__}: {missing} missing from the results of image '
                           f'{results.get("img_path")}; add the transform that makes them '
                           f'(LoadPrimapsMasks, LoadSaliencyMask + MaskContrastViews).')
        packed = super().transform(results)
        sample = packed['data_samples']
        for key in results.get(VIEW_FIELDS, ()):
            sample.set_field(image_to_tensor(results[key]), key)
        for key in self.pixel_keys:
            maps = torch.from_numpy(np.asarray(results[key], dtype=np.int64)[None])
            sample.set_data({key: PixelData(data=maps)})
        return packed
