"""Map fine annotation labels to USS classes with a lookup table."""
from typing import Dict, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from mmuss.utils.ignore_index import IGNORE_INDEX

from .label_maps import LABEL_MAPS

UNMAPPED = -1
# The built-in tables read the official id files; converted train-id files would be mapped to
# wrong classes without any error, so their values are never to be ignored.
OFFICIAL_IDS = dict(
    cityscapes27=('the cityscapes27 table reads the official gtFine *_labelIds.png (ids 0..33); '
                  "mmseg's *_labelTrainIds.png hold other ids (0..18, 255) and drop 8 of the 27 "
                  'classes: point seg_map_suffix at _gtFine_labelIds.png. Ignoring the values '
                  'would score wrong classes.'),
    cocostuff27=('the cocostuff27 table reads the official stuffthingmaps (ids 0..181, '
                 "255); mmseg's *_labelTrainIds.png renumber them (0..170): use the official "
                 'files. Ignoring the values would score wrong classes.'),
)


def build_lut(mapping: Dict[int, int]) -> np.ndarray:
    """``{fine: coarse}`` → int32 table indexed by fine label; ``-1`` marks unmapped values."""
    if not mapping:
        raise ValueError('The label mapping is empty.')
    bad = {k: v for k, v in mapping.items() if not (0 <= int(k) and 0 <= int(v) <= IGNORE_INDEX)}
    if bad:
        raise ValueError(f'Label mapping entries out of range: {bad} '
                         f'(fine ids must be >= 0, coarse ids in [0, {IGNORE_INDEX}]).')
    lut = np.full(max(int(k) for k in mapping) + 1, UNMAPPED, dtype=np.int32)
    for fine, coarse in mapping.items():
        lut[int(fine)] = int(coarse)
    return lut


def apply_lut(labels: np.ndarray, lut: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Look every label up: ``out(p) = lut[labels(p)]``.

    Args:
        labels: Integer label map of any shape (values ``>= 0``).
        lut: Table from :func:`build_lut`.

    Returns:
        ``(mapped, unmapped_values)``: the int32 map (``-1`` where the value is
        not in the table) and the sorted distinct unmapped input values.
    """
    if labels.size and labels.min() < 0:
        raise ValueError(f'Negative label values {np.unique(labels[labels < 0]).tolist()}.')
    mapped = np.full(labels.shape, UNMAPPED, dtype=np.int32)
    inside = labels < len(lut)
    mapped[inside] = lut[labels[inside]]
    return mapped, np.unique(labels[mapped == UNMAPPED])


@TRANSFORMS.register_module()
class LabelLUT(BaseTransform):
    """Map ``gt_seg_map`` from a dataset's fine labels to USS classes.

    Place it right after ``LoadAnnotations`` (the raw label values are then the
    file's). The output is ``uint8`` with ``255`` = ignore.

    Args:
        mapping: Name of a built-in table (``'cityscapes27'``, ``'cocostuff27'``,
            ``'potsdam3'``, ``'voc21'``, ``'five_crop27'``, ``'super_crop21'``; see
            :mod:`mmuss.datasets.transforms.label_maps`) or a ``{fine: coarse}``
            dict (coarse ``255`` = ignore).
        unmapped: What a label value missing from the table becomes:
            ``'ignore'`` (255) or ``'error'`` (raise, naming the file and values).
    """

    def __init__(self, mapping: Union[str, Dict[int, int]], unmapped: str = 'error') -> None:
        if isinstance(mapping, str):
            if mapping not in LABEL_MAPS:
                raise KeyError(f'Unknown label mapping {mapping!r}; '
                               f'built-in ones are {sorted(LABEL_MAPS)}.')
            self.name, table = mapping, LABEL_MAPS[mapping]
        else:
            self.name, table = 'custom', dict(mapping)
        if unmapped not in ('ignore', 'error'):
            raise ValueError(f"unmapped must be 'ignore' or 'error', got {unmapped!r}.")
        self.unmapped = unmapped
        self.lut = build_lut(table)

    def transform(self, results: dict) -> dict:
        labels = results['gt_seg_map']
        name = results.get('seg_map_path', '<gt_seg_map>')
        ori_shape = results.get('ori_shape')
        if ori_shape is not None and tuple(labels.shape[:2]) != tuple(ori_shape[:2]):
            raise ValueError(f'{name} is {labels.shape[0]}x{labels.shape[1]} but its image '
                             f'{results.get("img_path")} is {ori_shape[0]}x{ori_shape[1]}; '
                             f'labels must have the image\'s size (fix the pairing or the file).')
        if self.name in OFFICIAL_IDS and 'trainid' in str(name).lower():
            raise ValueError(f'{name}: {OFFICIAL_IDS[self.name]}')
        mapped, missing = apply_lut(labels, self.lut)
        if missing.size and self.unmapped == 'error':
            hint = OFFICIAL_IDS.get(self.name, "use LabelLUT(unmapped='ignore') to ignore them")
            raise ValueError(f'{name}: label values {missing.tolist()} are not in the '
                             f'{self.name!r} mapping; {hint}')
        mapped[mapped == UNMAPPED] = IGNORE_INDEX
        results['gt_seg_map'] = mapped.astype(np.uint8)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(mapping={self.name!r}, unmapped={self.unmapped!r})'
