"""Pack MaskContrast's query view as the input and its key view into the data sample."""
import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS


def image_to_tensor(img: np.ndarray) -> torch.Tensor:
    """``H×W×C`` (or ``H×W``) array → contiguous ``C×H×W`` tensor, dtype kept."""
    img = img[..., None] if img.ndim == 2 else img
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


@TRANSFORMS.register_module()
class PackMaskContrastInputs(PackSegInputs):
    """mmseg's ``PackSegInputs`` plus MaskContrast's two-view fields.

    ``inputs`` is the query view; the data sample additionally holds
    ``key_img`` (raw ``3×H×W`` key view, normalised in the model like the
    input), ``gt_saliency`` and ``gt_key_saliency`` (``1×H×W`` 0/1 masks).
    """

    def transform(self, results: dict) -> dict:
        missing = [k for k in ('key_img', 'gt_saliency', 'gt_key_saliency') if k not in results]
        if missing:
            raise KeyError(f'PackMaskContrastInputs needs {missing} (from MaskContrastViews) for '
                           f'image {results.get("img_path")}.')
        packed = super().transform(results)
        sample = packed['data_samples']
        sample.set_field(image_to_tensor(results['key_img']), 'key_img')
        for name in ('gt_saliency', 'gt_key_saliency'):
            mask = torch.from_numpy(results[name][None].astype(np.int64))
            sample.set_data({name: PixelData(data=mask)})
        return packed
