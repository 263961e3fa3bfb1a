from .class_focal_loss import ClassFocalLoss
from .hidden_positive_loss import HiddenPositiveLoss
from .mask_contrast_loss import MaskContrastLoss
from .patch_consistency_loss import PatchConsistencyLoss
from .stego_correlation_loss import StegoCorrelationLoss

__all__ = [
    'ClassFocalLoss', 'HiddenPositiveLoss', 'MaskContrastLoss', 'PatchConsistencyLoss',
    'StegoCorrelationLoss'
]
