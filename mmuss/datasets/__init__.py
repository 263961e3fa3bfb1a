from . import transforms  # noqa: F401
from .base_seg_dataset import BaseSegDataset
from .cityscapes27 import Cityscapes27Dataset
from .cocostuff27 import COCOStuff27Dataset
from .image_folder_dataset import ImageFolderDataset
from .knn_pair_dataset import KNNPairDataset
from .pascal_voc import PascalVOC21Dataset
from .potsdam3 import Potsdam3Dataset

__all__ = [
    'BaseSegDataset', 'COCOStuff27Dataset', 'Cityscapes27Dataset', 'ImageFolderDataset',
    'KNNPairDataset', 'PascalVOC21Dataset', 'Potsdam3Dataset'
]
