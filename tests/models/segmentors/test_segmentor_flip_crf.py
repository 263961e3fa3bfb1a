"""FrozenBackboneSegmentor's test-time options: flip averaging and dense CRF."""
import importlib.util

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmuss.models.utils.dense_crf import dense_crf


@MODELS.register_module(force=True)
class ToyPointwiseBackbone(nn.Module):
    """1×1 conv features (flip-equivariant), optionally plus a left-to-right ramp (not)."""

    def __init__(self, ramp: float = 0.0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 1)
        self.ramp = ramp

    def forward(self, x: torch.Tensor):
        feats = self.conv(x)
        return (feats + self.ramp * torch.linspace(-1, 1, x.shape[-1]), )


def build_segmentor(ramp: float = 0.0, **test_cfg):
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='FrozenBackboneSegmentor',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[0, 0, 0], std=[1, 1, 1]),
        backbone=dict(type='ToyPointwiseBackbone', ramp=ramp),
        decode_head=dict(type='FCNHead', in_channels=8, channels=8, num_convs=0,
                         concat_input=False, num_classes=3, norm_cfg=None, dropout_ratio=0),
        test_cfg=dict(mode='whole', **test_cfg)))
    return model.eval()


def test_flip_average_is_exact_for_flip_equivariant_model():
    inputs = torch.rand(2, 3, 12, 20)
    plain = build_segmentor().inference_logits(inputs)['seg']
    flipped = build_segmentor(flip=True).inference_logits(inputs)['seg']
    assert torch.equal(plain, flipped)


def test_flip_average_is_mean_of_the_two_passes():
    inputs = torch.rand(2, 3, 12, 20)
    model = build_segmentor(ramp=3.0)
    plain = model.inference_logits(inputs)['seg']
    mirrored = model.inference_logits(inputs.flip(-1))['seg'].flip(-1)
    model.test_cfg['flip'] = True
    averaged = model.inference_logits(inputs)['seg']
    assert not torch.allclose(plain, mirrored)
    torch.testing.assert_close(averaged, (plain + mirrored) / 2)


@pytest.mark.skipif(importlib.util.find_spec('pydensecrf') is None,
                    reason='pydensecrf2 is not installed')
def test_crf_option_refines_every_image_with_the_package_crf():
    images = torch.randint(0, 256, (2, 3, 12, 20), dtype=torch.uint8)
    inputs = images.float()  # mean 0, std 1: normalisation is the identity
    model = build_segmentor(crf=dict(num_iters=4, bilateral_srgb=10))
    logits = build_segmentor().inference_logits(inputs)['seg']
    samples = model.predict(inputs, [
        SegDataSample(metainfo=dict(ori_shape=(12, 20), img_shape=(12, 20))) for _ in range(2)])
    for i, sample in enumerate(samples):
        q = dense_crf(images[i].permute(1, 2, 0).numpy(), logits[i].log_softmax(0),
                      num_iters=4, bilateral_srgb=10)
        np.testing.assert_array_equal(sample.pred_sem_seg.data[0].numpy(), q.argmax(0))
        torch.testing.assert_close(sample.seg_logits.data,
                                   torch.from_numpy(q).clamp_min(1e-8).log())
