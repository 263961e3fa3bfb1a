"""MaskContrastHead's convolutions keep PyTorch's default initialisation, as the reference's."""
import math

import pytest
import torch
import torch.nn as nn
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import mmuss  # noqa: F401


def test_convolutions_have_pytorch_default_scale():
    init_default_scope('mmseg')
    torch.manual_seed(0)
    head = MODELS.build(dict(type='MaskContrastHead', in_channels=2048, channels=256,
                             embed_dims=32, dilations=(1, 12, 24, 36), num_classes=21))
    head.init_weights()  # what the runner calls
    convs = {name: m for name, m in head.named_modules() if isinstance(m, nn.Conv2d)}
    # image pool, 4 ASPP branches, projection, bottleneck, embedding, saliency
    assert len(convs) == 9
    for name, conv in convs.items():
        fan_in = conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1]
        # kaiming_uniform_(a=√5) = U(±1/√fan_in), whose std is 1/√(3·fan_in)
        expected = 1 / math.sqrt(3 * fan_in)
        assert conv.weight.std().item() == pytest.approx(expected, rel=0.05), name
        assert conv.weight.abs().max().item() <= (1 + 1e-6) / math.sqrt(fan_in), name  # float32
    for m in head.modules():
        if isinstance(m, nn.BatchNorm2d):
            assert m.weight.eq(1).all() and m.bias.eq(0).all()
