"""FrozenBackboneSegmentor prediction through a real mmuss head: flip, slide windows, CRF.

The backbone returns, per pixel, ``(x + r·u, 1)`` where ``x`` is the input's first channel and
``u`` runs linearly from −1 (left) to +1 (right) across the image it sees, so it is not
flip-equivariant and depends on the window it is run on. The head is a cluster probe with
prototypes ``(1, 0)`` and ``(0, 1)`` and scale α = 2: cluster 0 wins iff the first feature
exceeds 1. All expectations below are written out by hand from that.
"""
import importlib.util
import math

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmuss.models.utils.dense_crf import dense_crf


@MODELS.register_module(force=True)
class RampBackbone(nn.Module):
    """``(x₀ + r·u, 1)`` per pixel, ``u`` from −1 to 1 across the width it is given."""

    def __init__(self, ramp: float = 1.0) -> None:
        super().__init__()
        self.ramp = ramp
        self.unused = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor):
        u = torch.linspace(-1, 1, x.shape[-1]) if x.shape[-1] > 1 else torch.zeros(1)
        return (torch.stack([x[:, 0] + self.ramp * u, torch.ones_like(x[:, 0])], dim=1), )


def build(**test_cfg):
    init_default_scope('mmseg')
    model = MODELS.build(dict(
        type='FrozenBackboneSegmentor',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[0, 0, 0], std=[1, 1, 1]),
        backbone=dict(type='RampBackbone'),
        decode_head=dict(type='ClusterProbeHead', in_channels=2, num_classes=2,
                         cluster_alpha=2.0, linear_probe=False),
        test_cfg={'mode': 'whole', **test_cfg}))
    model.decode_head.cluster_probe.set_prototypes(torch.eye(2))
    return model.eval()


def cluster_logits(first: float) -> list:
    """``α·cos((f, 1), e_k)`` for k = 0, 1."""
    norm = math.hypot(first, 1.0)
    return [2 * first / norm, 2 / norm]


def image(row):
    """``1×3×1×W`` input whose first channel is ``row``."""
    x = torch.zeros(1, 3, 1, len(row))
    x[0, 0, 0] = torch.tensor(row)
    return x


def test_flip_averages_the_code_before_the_probe():
    # W = 2, r = 1: plain features (a − 1, 1), (b + 1, 1); the flipped pass gives
    # (a + 1, 1), (b − 1, 1) after flipping back, so the averaged code is (a, 1), (b, 1).
    a, b = 1.5, -3.0
    plain = build().inference_logits(image([a, b]))['seg'][0, :, 0]
    flipped = build(flip=True).inference_logits(image([a, b]))['seg'][0, :, 0]
    expected_plain = torch.tensor([cluster_logits(a - 1), cluster_logits(b + 1)]).T
    torch.testing.assert_close(plain, expected_plain)
    torch.testing.assert_close(flipped, torch.tensor([cluster_logits(a), cluster_logits(b)]).T)
    # averaging the probe's logits instead would give a different answer
    mean_logits = (torch.tensor(cluster_logits(a - 1)) + torch.tensor(cluster_logits(a + 1))) / 2
    assert not torch.allclose(flipped[:, 0], mean_logits, atol=1e-3)
    assert plain[:, 0].argmax() == 1 and flipped[:, 0].argmax() == 0  # flip changes pixel 0


def test_overlapping_slide_windows_average_their_logits():
    # W = 6, windows of 4 with stride 2 start at 0 and 2; within a window u = (−1, −⅓, ⅓, 1).
    row = [0.5, 2.0, -1.0, 3.0, 0.0, 1.5]
    u = [-1, -1 / 3, 1 / 3, 1]
    windows = {j: [s for s in (0, 2) if s <= j < s + 4] for j in range(6)}
    expected = torch.tensor([
        np.mean([cluster_logits(row[j] + u[j - s]) for s in windows[j]], axis=0) for j in range(6)
    ], dtype=torch.float32).T
    model = build(mode='slide', crop_size=(1, 4), stride=(1, 2))
    logits = model.inference_logits(image(row))['seg'][0, :, 0]
    torch.testing.assert_close(logits, expected)
    assert windows[2] == [0, 2] and windows[5] == [2]


@pytest.mark.skipif(importlib.util.find_spec('pydensecrf') is None,
                    reason='pydensecrf2 is not installed')
def test_flip_then_crf_changes_an_isolated_pixel():
    # 8×8, first channel 3 everywhere but 0.9 at (4, 4): the flip-averaged code there is
    # (0.9, 1), a weak cluster-1 vote that the CRF's smoothing overrules.
    x = torch.full((1, 3, 8, 8), 3.0)
    x[:, 1:] = 0
    x[0, 0, 4, 4] = 0.9
    model = build(flip=True, crf=dict(num_iters=5))
    flip_only = build(flip=True).inference_logits(x)['seg']
    assert flip_only[0, :, 4, 4].argmax() == 1
    meta = dict(ori_shape=(8, 8), img_shape=(8, 8))
    sample = model.predict(x, [SegDataSample(metainfo=meta)])[0]
    code = torch.stack([x[0, 0], torch.ones(8, 8)])  # the flip-averaged code, by hand
    hand = torch.stack([2 * code[0], 2 * code[1]]) / code.norm(dim=0)
    pixels = x[0].round().to(torch.uint8).permute(1, 2, 0).numpy()  # 0.9 is pixel value 1
    q = dense_crf(pixels, hand.log_softmax(0), num_iters=5)
    np.testing.assert_array_equal(sample.pred_sem_seg.data[0].numpy(), q.argmax(0))
    assert sample.pred_sem_seg.data[0, 4, 4] == 0
