from .hungarian_matching import (UNMATCHED, confusion_update, hungarian_matching,
                                 identity_matching, majority_matching, scores_from_confusion)
from .iou_matching import (cluster_mask_embeddings, iou_from_confusion, iou_hungarian_matching,
                           mask_cluster_confusion)

__all__ = [
    'UNMATCHED', 'cluster_mask_embeddings', 'confusion_update', 'hungarian_matching',
    'identity_matching', 'iou_from_confusion', 'iou_hungarian_matching', 'majority_matching',
    'mask_cluster_confusion', 'scores_from_confusion'
]
