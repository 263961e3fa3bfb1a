from .center_crop_as_original import CenterCropAsOriginal
from .color_jitter import ColorJitter
from .crop_to_patch_multiple import CropToPatchMultiple
from .label_lut import LabelLUT
from .label_maps import LABEL_MAPS
from .load_primaps_masks import LoadPrimapsMasks
from .load_saliency_mask import LoadSaliencyMask
from .maskcontrast_views import MaskContrastViews
from .normalised_photometric_view import NormalisedPhotometricView
from .pack_multi_view_seg_inputs import PackMultiViewSegInputs
from .random_scale_rotate import RandomScaleRotate
from .resize_short_side import ResizeShortSide
from .seg_random_resized_crop import SegRandomResizedCrop

__all__ = [
    'CenterCropAsOriginal', 'ColorJitter', 'CropToPatchMultiple', 'LABEL_MAPS', 'LabelLUT',
    'LoadPrimapsMasks', 'LoadSaliencyMask', 'MaskContrastViews', 'NormalisedPhotometricView',
    'PackMultiViewSegInputs', 'RandomScaleRotate', 'ResizeShortSide', 'SegRandomResizedCrop'
]
