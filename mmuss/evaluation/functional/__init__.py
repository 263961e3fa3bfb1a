from .hungarian_matching import (MATCHINGS, UNMATCHED, confusion_update, drop_unmatched,
                                 hungarian_matching, hungarian_then_majority_matching,
                                 identity_matching, majority_matching, match_and_score,
                                 scores_from_confusion)
from .iou_matching import (cluster_mask_embeddings, iou_from_confusion, iou_hungarian_matching,
                           mask_cluster_confusion)

__all__ = [
    'MATCHINGS', 'UNMATCHED', 'cluster_mask_embeddings', 'confusion_update', 'drop_unmatched',
    'hungarian_matching', 'hungarian_then_majority_matching', 'identity_matching',
    'iou_from_confusion', 'iou_hungarian_matching', 'majority_matching', 'mask_cluster_confusion',
    'match_and_score', 'scores_from_confusion'
]
