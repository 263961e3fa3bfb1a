"""USSLocalVisualizer: clusters drawn as matched classes, or as clusters without a matching."""
import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmuss.visualization import USSLocalVisualizer, cluster_palette

CLUSTERS = torch.tensor([[[0, 1, 2, 3], [3, 2, 1, 0]]])
PALETTE = [[200, 0, 0], [0, 200, 0], [0, 0, 200]]


def drawn(vis, sample, draw_gt=False):
    image = np.zeros((2, 4, 3), np.uint8)
    vis.add_datasample('x', image, sample, draw_gt=draw_gt, with_labels=False)
    return vis.get_image()


def test_cluster_palette_first_colours_by_hand():
    # k=0: hue 0, s=.85, v=.95 -> (v, v(1-s), v(1-s)) * 255
    assert cluster_palette(1) == [[242, 36, 36]]
    # k=1: hue 0.618 (between cyan and blue), s=.55, v=.85: max 217, min 98
    colour = cluster_palette(2)[1]
    assert max(colour) == 217 and min(colour) == 98 and colour[2] == 217
    colours = cluster_palette(30)
    assert len({tuple(c) for c in colours}) == 30
    assert all(0 <= v <= 255 for c in colours for v in c)


def test_matched_clusters_are_drawn_in_their_class_colours():
    vis = USSLocalVisualizer(name='vis_matched', alpha=1.0)
    vis.dataset_meta = dict(classes=['a', 'b', 'c'], palette=PALETTE)
    vis.set_matching(dict(cluster_to_class=[2, -1, 0, 1]))
    image = drawn(vis, SegDataSample(pred_sem_seg=PixelData(data=CLUSTERS)))
    expected = {0: PALETTE[2], 1: [0, 0, 0], 2: PALETTE[0], 3: PALETTE[1]}  # 1 is unmatched
    for (y, x), k in np.ndenumerate(CLUSTERS[0].numpy()):
        assert image[y, x].tolist() == expected[k], (y, x, k)


def test_without_matching_clusters_get_cluster_colours_and_gt_dataset_colours():
    vis = USSLocalVisualizer(name='vis_plain', alpha=1.0, matching_key='test/absent')
    vis.dataset_meta = dict(classes=['a', 'b', 'c'], palette=PALETTE)
    gt = torch.tensor([[[0, 0, 1, 1], [2, 2, 255, 255]]])
    sample = SegDataSample(pred_sem_seg=PixelData(data=CLUSTERS), gt_sem_seg=PixelData(data=gt))
    image = drawn(vis, sample, draw_gt=True)
    assert image.shape == (2, 8, 3)  # ground truth | prediction
    colours = cluster_palette(4)
    for (y, x), k in np.ndenumerate(CLUSTERS[0].numpy()):
        assert image[y, 4 + x].tolist() == colours[k]
    assert image[0, 0].tolist() == PALETTE[0] and image[1, 0].tolist() == PALETTE[2]
    assert image[1, 3].tolist() == [0, 0, 0]  # ignored label stays unpainted


def test_matching_is_read_from_the_message_hub():
    hub = MessageHub.get_current_instance()
    hub.update_info('test/matching', dict(cluster_to_class=[1, 0, -1, -1], classes=['p', 'q'],
                                          palette=[[10, 20, 30], [40, 50, 60]]))
    vis = USSLocalVisualizer(name='vis_hub', alpha=1.0, matching_key='test/matching')
    image = drawn(vis, SegDataSample(pred_sem_seg=PixelData(data=CLUSTERS)))
    assert image[0, 0].tolist() == [40, 50, 60] and image[0, 1].tolist() == [10, 20, 30]
    hub.update_info('test/matching', dict(cluster_to_class=[0, -3]))
    with pytest.raises(ValueError, match='test/matching'):
        vis.current_matching()


def test_ground_truth_falls_back_to_the_matching_classes():
    """A training set without class names (an image folder) still lets val GT be drawn."""
    vis = USSLocalVisualizer(name='vis_fallback', alpha=1.0, matching_key='test/unset')
    vis.dataset_meta = dict(palette=[])
    gt = torch.tensor([[[0, 1, 1, 0], [1, 1, 0, 0]]])
    sample = SegDataSample(gt_sem_seg=PixelData(data=gt))
    with pytest.raises(ValueError, match='needs class names'):
        drawn(vis, sample, draw_gt=True)
    vis.set_matching(dict(cluster_to_class=[1, 0], classes=['p', 'q'],
                          palette=[[10, 20, 30], [40, 50, 60]]))
    image = drawn(vis, sample, draw_gt=True)
    assert image[0, 0].tolist() == [10, 20, 30] and image[0, 1].tolist() == [40, 50, 60]
