from .hungarian_iou_metric import HungarianIoUMetric

__all__ = ['HungarianIoUMetric']
