"""Map fine annotation labels to USS classes with a lookup table."""
from typing import Dict, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from mmuss.utils.ignore_index import IGNORE_INDEX

from .label_maps import LABEL_MAPS

UNMAPPED = -1


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
            ``'potsdam3'``, ``'voc21'``, ``'five_crop27'``; see
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
        mapped, missing = apply_lut(labels, self.lut)
        if missing.size and self.unmapped == 'error':
            raise ValueError(
                f"{results.get('seg_map_path', '<gt_seg_map>')}: label values "
                f'{missing.tolist()} are not in the {self.name!r} mapping '
                "(use LabelLUT(unmapped='ignore') to ignore them).")
        mapped[mapped == UNMAPPED] = IGNORE_INDEX
        results['gt_seg_map'] = mapped.astype(np.uint8)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(mapping={self.name!r}, unmapped={self.unmapped!r})'
