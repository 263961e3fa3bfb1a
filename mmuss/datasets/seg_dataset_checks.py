"""Dataset-level checks whose errors name the folder or file at fault."""
from typing import List

import numpy as np


class SegDatasetChecks:
    """Mixin for mmseg ``BaseSegDataset`` subclasses (put it first among the bases).

    - An empty sample list is a ``FileNotFoundError`` naming the image folder,
      the suffix and the fix, instead of mmengine's ``need at least one array
      to concatenate``.
    - A packed sample whose label map holds a value outside
      ``[0, len(classes))`` other than ``ignore_index`` is a ``ValueError``
      naming the value, the label file and the fix.
    """

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        if not data_list:
            where = self.data_prefix.get('img_path', '')
            listed = f' listed in {self.ann_file}' if self.ann_file else ''
            raise FileNotFoundError(
                f'{type(self).__name__} found no image ending in {self.img_suffix!r}{listed} '
                f'under {where!r}: check data_root and data_prefix (e.g. --cfg-options '
                f'data_root=...).')
        return data_list

    def prepare_data(self, idx: int):
        results = super().prepare_data(idx)
        sample = results.get('data_samples') if isinstance(results, dict) else None
        if sample is not None and 'gt_sem_seg' in sample:
            check_label_range(sample.gt_sem_seg.data.cpu().numpy(),
                              len(self.metainfo['classes']), self.ignore_index,
                              sample.metainfo.get('seg_map_path', f'sample {idx}'))
        return results


def check_label_range(labels: np.ndarray, num_classes: int, ignore_index: int,
                      name: str) -> None:
    """``ValueError`` naming ``name`` when a label is outside ``[0, num_classes)`` ∪ {ignore}."""
    bad = (labels != ignore_index) & ((labels < 0) | (labels >= num_classes))
    if bad.any():
        values = np.unique(labels[bad]).tolist()
        raise ValueError(f'{name}: label values {values[:10]} are outside [0, {num_classes}) '
                         f'and are not the ignore index {ignore_index}. Map the file\'s labels '
                         f'to the classes (LabelLUT) or fix metainfo classes.')
