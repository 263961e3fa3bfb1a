"""mmseg's BaseSegDataset, under its own name, with errors that name the folder or file."""
from mmseg.datasets import BaseSegDataset as MMSegBaseSegDataset
from mmseg.registry import DATASETS

from .seg_dataset_checks import SegDatasetChecks


@DATASETS.register_module(name='BaseSegDataset', force=True)
class BaseSegDataset(SegDatasetChecks, MMSegBaseSegDataset):
    """``type='BaseSegDataset'`` in a config (mmseg's scope) builds this class once mmuss is
    imported: mmseg's dataset with :class:`SegDatasetChecks` (an empty folder names the
    folder and suffix; an unreadable file or an out-of-range label names the file).
    Everything else is mmseg's."""
