"""Fine→coarse label tables of the USS benchmarks (255 = ignore).

Each table maps every label value a benchmark's official annotation files may
hold to its USS class id; values a table does not list are "unmapped" and
:class:`~mmuss.datasets.transforms.LabelLUT` ignores or rejects them.
Sources: the STEGO/HP and PriMaPs data loaders and MaskContrast's VOC
loader; the protocol is in docs/datasets.md.
"""
from typing import Dict, Iterable, Tuple

from mmuss.utils.ignore_index import IGNORE_INDEX



def _spread(groups: Iterable[Tuple[int, Iterable[int]]]) -> Dict[int, int]:
    """``[(coarse, fine ids), ...]`` → ``{fine: coarse}``, refusing repeated fine ids."""
    table: Dict[int, int] = {}
    for coarse, fines in groups:
        for fine in fines:
            if fine in table:
                raise ValueError(f'Fine label {fine} is listed twice.')
            table[fine] = coarse
    return table


# Cityscapes gtFine *_labelIds.png: the 27 classes are labelIds 7..33 (label = id - 7);
# ids 0..6 (unlabeled, ego vehicle, rectification border, out of roi, static, dynamic,
# ground) are void.
CITYSCAPES27 = {**{i: IGNORE_INDEX for i in range(7)}, **{i: i - 7 for i in range(7, 34)}}

# COCO-Stuff stuffthingmaps ids 0..181 (255 = unlabeled) → the 27 coarse classes.
COCOSTUFF27 = {
    **_spread([
        (0, range(71, 77)),  # electronic
        (1, range(77, 83)),  # appliance
        (2, range(51, 61)),  # food (things)
        (3, range(61, 71)),  # furniture (things)
        (4, range(83, 91)),  # indoor
        (5, range(43, 51)),  # kitchen
        (6, range(25, 33)),  # accessory
        (7, range(15, 25)),  # animal
        (8, range(9, 15)),  # outdoor
        (9, [0]),  # person
        (10, range(33, 43)),  # sports
        (11, range(1, 9)),  # vehicle
        (12, [101, 102]),  # ceiling
        (13, [100, 113, 114, 115, 116, 117]),  # floor
        (14, [120, 121, 152, 169]),  # food (stuff)
        (15, [97, 106, 107, 109, 111, 122, 129, 132, 155, 160, 164]),  # furniture (stuff)
        (16, [99, 131, 138, 142]),  # rawmaterial
        (17, [91, 92, 103, 104, 108, 130, 136, 140, 151, 166, 167]),  # textile
        (18, range(170, 177)),  # wall
        (19, [179, 180]),  # window
        (20, [94, 95, 127, 150, 157, 165]),  # building
        (21, [110, 124, 125, 135, 139, 143, 144, 146, 148, 153, 158]),  # ground
        (22, [93, 96, 118, 123, 128, 133, 141, 162, 168]),  # plant
        (23, [105, 156]),  # sky
        (24, [126, 134, 149, 159, 161, 181]),  # solid
        (25, [98, 112, 137, 145, 163]),  # structural
        (26, [119, 147, 154, 177, 178]),  # water
    ]),
    IGNORE_INDEX: IGNORE_INDEX,
}

# Potsdam fine ids (impervious surface, building, low vegetation, tree, car, clutter)
# → roads and cars, buildings and clutter, trees and vegetation.
POTSDAM3 = {**_spread([(0, [0, 4]), (1, [1, 5]), (2, [2, 3])]), IGNORE_INDEX: IGNORE_INDEX}

# PASCAL VOC 2012 SegmentationClass: 21 classes, 255 = object boundary / void.
VOC21 = {**{i: i for i in range(21)}, IGNORE_INDEX: IGNORE_INDEX}


def five_crop_table(num_classes: int) -> Dict[int, int]:
    """Crop label files (STEGO's five, CAUSE's VOC super crops) hold ``label + 1``, 0 = ignore."""
    return {0: IGNORE_INDEX, **{i + 1: i for i in range(num_classes)}}


LABEL_MAPS: Dict[str, Dict[int, int]] = dict(
    cityscapes27=CITYSCAPES27,
    cocostuff27=COCOSTUFF27,
    potsdam3=POTSDAM3,
    voc21=VOC21,
    five_crop27=five_crop_table(27),
    super_crop21=five_crop_table(21),
)
