"""COCO-Stuff-27: the curated 27-coarse-class USS benchmark."""
import os.path as osp
from typing import List

from mmseg.datasets import COCOStuffDataset
from mmseg.registry import DATASETS

from .seg_dataset_checks import SegDatasetChecks


def voc_palette(num: int) -> List[List[int]]:
    """PASCAL VOC's colour map: bits of the index spread over R, G, B, high bits first."""
    palette = []
    for index in range(num):
        rgb, code = [0, 0, 0], index
        for shift in range(7, -1, -1):
            for channel in range(3):
                rgb[channel] |= ((code >> channel) & 1) << shift
            code >>= 3
        palette.append(rgb)
    return palette


@DATASETS.register_module()
class COCOStuff27Dataset(SegDatasetChecks, COCOStuffDataset):
    """mmseg's ``COCOStuffDataset`` with the 27 coarse USS classes.

    Reads the raw COCO-Stuff ``stuffthingmaps`` (``annotations/<split>/<id>.png``,
    fine ids 0..181, 255 = unlabeled; map them with
    ``LabelLUT(mapping='cocostuff27')``), not mmseg's 171-class
    ``*_labelTrainIds.png``. The benchmark's image subset is a curated list
    (one image id per line, e.g. IIC's ``Coco164kFull_Stuff_Coarse_7.txt``)
    passed as ``ann_file``; every listed image and annotation must exist, and
    the first missing one is named at build time. mmseg only accepts
    ``metainfo`` classes that are a subset of the class's own, hence a
    subclass. Palette: PASCAL VOC's colour map.
    """

    METAINFO = dict(
        classes=('electronic', 'appliance', 'food-things', 'furniture-things', 'indoor',
                 'kitchen', 'accessory', 'animal', 'outdoor', 'person', 'sports', 'vehicle',
                 'ceiling', 'floor', 'food-stuff', 'furniture-stuff', 'rawmaterial',
                 'textile', 'wall', 'window', 'building', 'ground', 'plant', 'sky', 'solid',
                 'structural', 'water'),
        palette=voc_palette(28)[1:])

    def __init__(self, img_suffix: str = '.jpg', seg_map_suffix: str = '.png',
                 **kwargs) -> None:
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        if self.ann_file and not osp.isdir(self.ann_file) and self.backend_args is None:
            for info in data_list:
                for key in ('img_path', 'seg_map_path'):
                    if key in info and not osp.isfile(info[key]):
                        raise FileNotFoundError(
                            f'Image list {self.ann_file} names '
                            f'{osp.basename(info["img_path"])[:-len(self.img_suffix)]!r}, '
                            f'but {info[key]} does not exist.')
        return data_list
