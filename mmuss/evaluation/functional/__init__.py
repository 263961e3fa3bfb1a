from .hungarian_matching import (UNMATCHED, confusion_update, hungarian_matching,
                                 identity_matching, majority_matching, scores_from_confusion)

__all__ = [
    'UNMATCHED', 'confusion_update', 'hungarian_matching', 'identity_matching',
    'majority_matching', 'scores_from_confusion'
]
