"""A photometrically augmented copy of the image (HP's ``img_aug``, docs/methods/hp.md eq. 14)."""
from typing import List, Union

from mmcv.transforms import BaseTransform, Compose
from mmseg.registry import TRANSFORMS

from .pack_multi_view_seg_inputs import add_view


@TRANSFORMS.register_module()
class PhotometricView(BaseTransform):
    """Store ``transforms(img)`` as ``results[key]``, leaving ``img`` untouched.

    Use photometric transforms only, so the view stays pixel-aligned with the
    image (HP disabled the geometric part). HP's recipe: ColorJitter(0.3, 0.3,
    0.3, 0.1) always, RandomGrayscale(p=0.2), GaussianBlur(σ ∈ [0.1, 2]) with
    p=0.5. Here they act on the uint8 image; HP applies them to the already
    normalised tensor, which torchvision clamps to [0, 1] (docs/methods/hp.md
    Q10, reproduced by :class:`NormalisedPhotometricView`). Pack the view with
    :class:`PackMultiViewSegInputs`.

    Args:
        transforms: Transform configs applied to the copy.
        key: Result key of the view.
    """

    def __init__(self, transforms: List[Union[dict, callable]], key: str = 'img_aug') -> None:
        self.pipeline = Compose(transforms)
        self.key = key

    def transform(self, results: dict) -> dict:
        view = self.pipeline({'img': results['img'].copy(), 'img_shape': results['img_shape']})
        if view is None:
            raise RuntimeError(f'PhotometricView transforms dropped the sample: {self.pipeline}.')
        if view['img'].shape[:2] != results['img'].shape[:2]:
            raise ValueError(f'PhotometricView changed the image size from '
                             f'{results["img"].shape[:2]} to {view["img"].shape[:2]}; use '
                             f'photometric transforms only.')
        add_view(results, self.key, view['img'])
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(key={self.key!r}, transforms={self.pipeline})'
