"""PASCAL VOC 2012's 21 classes on an image list or on a folder of crops."""
from mmseg.datasets import BaseSegDataset, PascalVOCDataset
from mmseg.registry import DATASETS

from .seg_dataset_checks import SegDatasetChecks


@DATASETS.register_module()
class PascalVOC21Dataset(SegDatasetChecks, BaseSegDataset):
    """mmseg's ``PascalVOCDataset`` classes (background + 20) with an optional image list.

    mmseg's class requires ``ann_file``; CAUSE trains on a folder of crops
    (``tools/dataset_converters/five_crop.py --crop-type super``, numbered
    ``<n>.jpg``/``<n>.png``), read with ``ann_file=''``. Label files hold the
    USS classes after ``LabelLUT`` (``'voc21'`` for ``SegmentationClass``,
    ``'super_crop21'`` for the crops); an empty folder or a label outside the
    21 classes and 255 is an error naming the folder or file
    (:class:`SegDatasetChecks`).
    """

    METAINFO = PascalVOCDataset.METAINFO

    def __init__(self, img_suffix: str = '.jpg', seg_map_suffix: str = '.png',
                 **kwargs) -> None:
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)
