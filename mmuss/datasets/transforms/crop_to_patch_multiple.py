"""Drop the bottom/right remainder so the image is a multiple of the ViT patch size."""
from typing import Tuple

from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


def patch_multiple_shape(height: int, width: int, divisor: int) -> Tuple[int, int]:
    """``(H - H mod p, W - W mod p)``; ``ValueError`` when a side is shorter than ``p``."""
    if height < divisor or width < divisor:
        raise ValueError(f'A {height}x{width} image is smaller than one {divisor}x{divisor} '
                         f'patch.')
    return height - height % divisor, width - width % divisor


@TRANSFORMS.register_module()
class CropToPatchMultiple(BaseTransform):
    """Crop the image to ``(H - H mod p) × (W - W mod p)``, keeping its top-left corner.

    This is what the official DINO/DINOv2 models do with the remainder (their
    strided patch convolution never sees it). Zero-padding to the next multiple
    instead adds tokens that take part in attention and change the features of
    the real region. A test-time transform: only ``img`` and ``img_shape``
    change; ``ori_shape`` and any label map keep the original size, and the
    segmentor resizes its prediction back to ``ori_shape`` (the dropped strip,
    at most ``p - 1`` pixels, gets the stretched border prediction).

    Args:
        size_divisor: The patch size ``p``.
    """

    def __init__(self, size_divisor: int) -> None:
        if size_divisor < 1:
            raise ValueError(f'size_divisor must be >= 1, got {size_divisor}.')
        self.size_divisor = size_divisor

    def transform(self, results: dict) -> dict:
        height, width = results['img'].shape[:2]
        try:
            new_h, new_w = patch_multiple_shape(height, width, self.size_divisor)
        except ValueError as exc:
            raise ValueError(f'{results.get("img_path") or "image"}: {exc}') from None
        results['img'] = results['img'][:new_h, :new_w]
        results['img_shape'] = (new_h, new_w)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(size_divisor={self.size_divisor})'
