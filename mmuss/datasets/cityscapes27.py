"""Cityscapes-27: the 27 USS classes read from gtFine ``*_labelIds.png``."""
from mmseg.datasets import CityscapesDataset
from mmseg.registry import DATASETS

from .seg_dataset_checks import SegDatasetChecks


@DATASETS.register_module()
class Cityscapes27Dataset(SegDatasetChecks, CityscapesDataset):
    """mmseg's ``CityscapesDataset`` with the 27-class USS label space.

    The 27 classes are Cityscapes labelIds 7..33 (docs/datasets.md): they
    include parking, rail track, guard rail, bridge, tunnel, polegroup, caravan
    and trailer, which the 19-class ``*_labelTrainIds.png`` files drop, so this
    reads the official ``*_labelIds.png`` (map them with
    ``LabelLUT(mapping='cityscapes27')``). mmseg only accepts ``metainfo``
    classes that are a subset of the class's own, hence a subclass. Palette:
    the official Cityscapes colours.
    """

    METAINFO = dict(
        classes=('road', 'sidewalk', 'parking', 'rail track', 'building', 'wall', 'fence',
                 'guard rail', 'bridge', 'tunnel', 'pole', 'polegroup', 'traffic light',
                 'traffic sign', 'vegetation', 'terrain', 'sky', 'person', 'rider', 'car',
                 'truck', 'bus', 'caravan', 'trailer', 'train', 'motorcycle', 'bicycle'),
        palette=[[128, 64, 128], [244, 35, 232], [250, 170, 160], [230, 150, 140],
                 [70, 70, 70], [102, 102, 156], [190, 153, 153], [180, 165, 180],
                 [150, 100, 100], [150, 120, 90], [153, 153, 153], [153, 153, 153],
                 [250, 170, 30], [220, 220, 0], [107, 142, 35], [152, 251, 152],
                 [70, 130, 180], [220, 20, 60], [255, 0, 0], [0, 0, 142], [0, 0, 70],
                 [0, 60, 100], [0, 0, 90], [0, 0, 110], [0, 80, 100], [0, 0, 230],
                 [119, 11, 32]])

    def __init__(self, img_suffix: str = '_leftImg8bit.png',
                 seg_map_suffix: str = '_gtFine_labelIds.png', **kwargs) -> None:
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)
