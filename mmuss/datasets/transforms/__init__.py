from .center_crop_as_original import CenterCropAsOriginal
from .label_lut import LabelLUT
from .label_maps import LABEL_MAPS
from .resize_short_side import ResizeShortSide

__all__ = ['CenterCropAsOriginal', 'LABEL_MAPS', 'LabelLUT', 'ResizeShortSide']
