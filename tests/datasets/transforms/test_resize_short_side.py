"""ResizeShortSide: torchvision's size rule and the label interpolation."""
import numpy as np
import pytest

from mmuss.datasets.transforms import ResizeShortSide
from mmuss.datasets.transforms.resize_short_side import short_side_size


@pytest.mark.parametrize('hw,size,expected', [
    ((480, 640), 320, (320, 426)),  # 426.67 truncated (mmseg's ResizeShortestEdge: 427)
    ((640, 480), 320, (426, 320)),
    ((1024, 2048), 320, (320, 640)),
    ((1024, 2048), 322, (322, 644)),
    ((300, 300), 224, (224, 224)),
    ((375, 500), 322, (322, 429)),  # 429.33
])
def test_torchvision_size_rule(hw, size, expected):
    assert short_side_size(*hw, size) == expected


def test_labels_nearest_at_pixel_centres():
    labels = np.arange(12, dtype=np.uint8).reshape(3, 4)
    results = dict(img=np.zeros((3, 4, 3), np.uint8), gt_seg_map=labels,
                   seg_fields=['gt_seg_map'])
    out = ResizeShortSide(6)(results)  # 3×4 → 6×8: every source pixel doubled
    assert out['img'].shape == (6, 8, 3) and out['img_shape'] == (6, 8)
    np.testing.assert_array_equal(out['gt_seg_map'], labels.repeat(2, 0).repeat(2, 1))
