"""Potsdam-3: the 3 merged USS classes of the ISPRS Potsdam labels."""
from mmseg.datasets import PotsdamDataset
from mmseg.registry import DATASETS

from .seg_dataset_checks import SegDatasetChecks


@DATASETS.register_module()
class Potsdam3Dataset(SegDatasetChecks, PotsdamDataset):
    """mmseg's ``PotsdamDataset`` with the 3-class USS label space.

    Fine labels (impervious surface, building, low vegetation, tree, car,
    clutter — mmseg's and IIC's order) merge into roads and cars, buildings and
    clutter, trees and vegetation (docs/datasets.md; map them with
    ``LabelLUT(mapping='potsdam3')``). The USS benchmark uses IIC's labelled
    Potsdam crops; ``tools/dataset_converters/potsdam3_mat_to_png.py`` turns
    their ``.mat`` files into the png layout read here, with fine labels
    0..5 and 255 = ignore, hence ``reduce_zero_label=False`` by default (set it
    to True for the png files of mmseg's own ``potsdam.py`` converter).
    mmseg only accepts ``metainfo`` classes that are a subset of the class's
    own, hence a subclass.
    """

    METAINFO = dict(
        classes=('roads and cars', 'buildings and clutter', 'trees and vegetation'),
        palette=[[255, 255, 255], [0, 0, 255], [0, 255, 0]])

    def __init__(self, reduce_zero_label: bool = False, **kwargs) -> None:
        super().__init__(reduce_zero_label=reduce_zero_label, **kwargs)
