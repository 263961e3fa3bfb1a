"""Sizes a model takes from its built backbone: the head's width, the preprocessor's padding."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from ...stego_hp_toys import tiny_dino

PRE = dict(type='SegDataPreProcessor', mean=[0.0] * 3, std=[1.0] * 3)
PROBE = dict(type='ClusterProbeHead', num_classes=3)


def segmentor(head=PROBE, pre=PRE, backbone=None, **kwargs):
    init_default_scope('mmseg')
    return MODELS.build(dict(type='FrozenBackboneSegmentor', data_preprocessor=pre,
                             backbone=backbone or tiny_dino(24), decode_head=head, **kwargs))


def test_head_width_and_padding_come_from_the_backbone():
    model = segmentor()
    assert model.decode_head.in_channels == 24
    assert model.data_preprocessor.size_divisor == 4 and model.data_preprocessor.size is None
    samples = [SegDataSample(gt_sem_seg=PixelData(data=torch.zeros(1, 30, 30, dtype=torch.long)))
               for _ in range(2)]
    data = model.data_preprocessor(
        dict(inputs=[torch.rand(3, 30, 30) * 255] * 2, data_samples=samples), True)
    assert data['inputs'].shape == (2, 3, 32, 32)  # padded to the patch, as mmseg pads
    assert model.decode_head(model.extract_feat(data['inputs'])).shape == (2, 24, 8, 8)


def test_stated_sizes_win():
    model = segmentor(head=dict(PROBE, in_channels=24), pre=dict(PRE, size=(32, 32)))
    assert model.data_preprocessor.size == (32, 32)
    assert model.data_preprocessor.size_divisor is None  # mmseg refuses both
    model = segmentor(pre=dict(PRE, size_divisor=8))
    assert model.data_preprocessor.size_divisor == 8


def test_a_neck_or_an_unknown_width_needs_in_channels():
    with pytest.raises(TypeError, match='in_channels'):  # the neck's width is not the backbone's
        segmentor(neck=dict(type='Feature2Pyramid', embed_dim=24, rescales=[1]))
    # mmseg backbones state no width of the map a head reads (a ResNet's maps differ by stage)
    resnet = dict(type='ResNetV1c', depth=18, out_indices=(2, 3))
    with pytest.raises(KeyError, match=r'ResNetV1c states no width .*set model\.decode_head\.'
                                       r'in_channels'), torch.device('meta'):
        segmentor(backbone=resnet, pre=dict(PRE, size_divisor=8))
    with torch.device('meta'):  # nor a patch: the config states the output stride
        model = segmentor(backbone=resnet, head=dict(PROBE, in_channels=512))
    assert model.data_preprocessor.size_divisor is None


def test_frozen_code_backbone_states_the_code_width_and_the_inner_patch():
    code = dict(type='FrozenCodeBackbone', backbone=tiny_dino(24),
                head=dict(type='StegoHead', channels=6, num_classes=3))
    model = segmentor(backbone=code)
    assert model.backbone.head.in_channels == 24  # the inner backbone's width
    assert model.decode_head.in_channels == 6  # the code's
    assert model.data_preprocessor.size_divisor == 4


def test_maskcontrast_takes_them_too():
    init_default_scope('mmseg')
    model = MODELS.build(dict(
        type='MaskContrast', data_preprocessor=PRE, backbone=tiny_dino(24), freeze_backbone=True,
        decode_head=dict(type='MaskContrastHead', channels=8, embed_dims=4, dilations=(1, 2),
                         num_classes=2)))
    assert model.decode_head.in_channels == 24 and model.data_preprocessor.size_divisor == 4
