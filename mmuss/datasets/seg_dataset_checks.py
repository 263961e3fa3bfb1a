"""Dataset-level checks whose errors name the folder or file at fault."""
import os.path as osp
from typing import List, Optional, Tuple

import numpy as np
from PIL import Image

# Files PIL can decode on its own, which a failed sample's files are checked with.
PIL_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')


class SegDatasetChecks:
    """Mixin for mmseg ``BaseSegDataset`` subclasses (put it first among the bases).

    - An empty sample list is a ``FileNotFoundError`` naming the image folder,
      the suffix and the fix, instead of mmengine's ``need at least one array
      to concatenate``.
    - A packed sample whose label map holds a value outside
      ``[0, len(classes))`` other than ``ignore_index`` is a ``ValueError``
      naming the value, the label file and the fix.
    - A sample whose image or label file cannot be decoded (e.g. a truncated
      PNG) is an ``OSError`` naming the file and why; the run stops there
      (nothing is skipped silently).
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
        try:
            results = super().prepare_data(idx)
        except Exception as exc:  # decoders raise many types; check the files to tell
            broken = unreadable_file(self.get_data_info(idx))
            if broken is None:
                raise
            path, reason = broken
            raise OSError(f'Cannot read {path}: {reason}. The run stops here (the sample is '
                          f'not skipped): replace the file, or remove it and its image/label '
                          f'partner from the dataset.') from exc
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


def unreadable_file(info: dict) -> Optional[Tuple[str, str]]:
    """``(path, reason)`` of the first existing image/label file of a sample that PIL cannot
    decode, else ``None``."""
    for key in ('img_path', 'seg_map_path'):
        path = info.get(key)
        if (not isinstance(path, str) or not path.lower().endswith(PIL_SUFFIXES)
                or not osp.isfile(path)):  # mmengine's error names a missing file
            continue
        try:
            with Image.open(path) as image:
                image.load()
        except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError, ...
            reason = str(exc) or type(exc).__name__
            if 'truncated' in reason:
                reason += ' (the file is incomplete, e.g. an interrupted copy)'
            return path, reason
    return None
