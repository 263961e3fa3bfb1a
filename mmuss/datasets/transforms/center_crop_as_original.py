"""Centre crop whose result is the image that evaluation scores."""
from mmcv.transforms import CenterCrop
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class CenterCropAsOriginal(CenterCrop):
    """mmcv ``CenterCrop`` that also sets ``ori_shape`` to the crop's shape.

    The USS protocol scores the resized centre crop (e.g. 320×320) against the
    equally resized and cropped labels, not the full-resolution annotation.
    mmseg resizes predictions to ``ori_shape`` before the metric, so the crop
    has to become the "original". Offsets follow torchvision's ``CenterCrop``
    (``round((H - h) / 2)``), which mmcv's already does.
    """

    def transform(self, results: dict) -> dict:
        results = super().transform(results)
        results['ori_shape'] = results['img'].shape[:2]
        return results
