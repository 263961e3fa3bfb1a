from .hungarian_iou_metric import HungarianIoUMetric
from .mask_kmeans_metric import MaskKMeansMetric

__all__ = ['HungarianIoUMetric', 'MaskKMeansMetric']
