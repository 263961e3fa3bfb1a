from .cause_contrastive_loss import CauseContrastiveLoss
from .cause_modularity_loss import CauseModularityLoss
from .class_focal_loss import ClassFocalLoss
from .hidden_positive_loss import HiddenPositiveLoss
from .maskcontrast_loss import MaskContrastLoss
from .patch_consistency_loss import PatchConsistencyLoss
from .stego_correlation_loss import StegoCorrelationLoss

__all__ = [
    'CauseContrastiveLoss', 'CauseModularityLoss', 'ClassFocalLoss', 'HiddenPositiveLoss',
    'MaskContrastLoss', 'PatchConsistencyLoss', 'StegoCorrelationLoss'
]
