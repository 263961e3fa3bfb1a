"""Resize so the shorter side has a given length, with torchvision's size rule."""
from typing import Tuple

from mmseg.datasets.transforms import Resize
from mmseg.registry import TRANSFORMS


def short_side_size(height: int, width: int, size: int) -> Tuple[int, int]:
    """Output ``(h, w)`` of torchvision's ``Resize(size)``.

    The shorter side becomes ``size``; the longer becomes
    ``int(size * long / short)`` (truncated, not rounded), so a 480×640 image
    becomes 320×426. mmseg's ``ResizeShortestEdge`` rounds instead (320×427).
    """
    if height <= width:
        return size, int(size * width / height)
    return int(size * height / width), size


@TRANSFORMS.register_module()
class ResizeShortSide(Resize):
    """Resize image and segmentation maps so the shorter side is ``size``.

    The USS references resize with torchvision's ``Resize(res)``. mmseg's
    ``ResizeShortestEdge`` cannot reproduce it (it rounds the long side and
    always interpolates images bilinearly), so this reuses mmseg's ``Resize``
    with the size rule of :func:`short_side_size`. Labels are always resized
    with nearest-neighbour by the same ``backend``: ``'pillow'`` samples pixel
    centres as PIL does, ``'cv2'`` samples ``floor(i * scale)`` as
    ``torch.nn.functional.interpolate(mode='nearest')`` does. Settings:

    - STEGO/HP (PIL images, nearest everywhere): ``interpolation='nearest',
      backend='pillow'`` (the shipped dataset configs).
    - PriMaPs training (PIL, bilinear images with antialiasing):
      ``interpolation='bilinear', backend='pillow'``.
    - PriMaPs evaluation (tensors, bilinear without antialiasing, nearest
      labels): ``interpolation='bilinear', backend='cv2'`` (cv2 rounds the
      image to uint8, the reference keeps floats).

    Args:
        size: Target length of the shorter side.
        interpolation: Image interpolation (``'nearest'``, ``'bilinear'``, ...).
        backend: ``'pillow'`` or ``'cv2'``.
    """

    def __init__(self, size: int, interpolation: str = 'nearest',
                 backend: str = 'pillow') -> None:
        if size <= 0:
            raise ValueError(f'size must be positive, got {size}.')
        super().__init__(scale=(size, size), keep_ratio=False,
                         interpolation=interpolation, backend=backend)
        self.size = size

    def transform(self, results: dict) -> dict:
        height, width = results['img'].shape[:2]
        new_h, new_w = short_side_size(height, width, self.size)
        results['scale'] = (new_w, new_h)
        self._resize_img(results)
        self._resize_seg(results)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(size={self.size}, '
                f'interpolation={self.interpolation!r}, backend={self.backend!r})')
