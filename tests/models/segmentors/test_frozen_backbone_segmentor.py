"""FrozenBackboneSegmentor: frozen backbone, cluster-id predictions, extra outputs, slide mode."""
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmuss.models.segmentors.frozen_backbone_segmentor import hflip_average


def build(num_clusters=None, **test_cfg):
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='FrozenBackboneSegmentor',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[1.0, 2.0, 3.0],
                               std=[2.0, 2.0, 2.0], size_divisor=4),
        backbone=dict(type='DinoVisionTransformer', patch_size=4, img_size=16,
                      arch=dict(embed_dims=16, num_layers=1, num_heads=2)),
        decode_head=dict(type='ClusterProbeHead', in_channels=16, num_classes=3,
                         num_clusters=num_clusters),
        test_cfg=dict(mode='whole', **test_cfg)))


def samples(n, size=16):
    out = []
    for _ in range(n):
        s = SegDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size),
                                        pad_shape=(size, size), padding_size=[0, 0, 0, 0]))
        s.gt_sem_seg = PixelData(data=torch.randint(0, 3, (1, size, size)))
        out.append(s)
    return out


def test_backbone_stays_frozen_in_train_mode_and_keeps_no_graph():
    model = build().train()
    assert not model.backbone.training and model.decode_head.training
    assert all(not p.requires_grad for p in model.backbone.parameters())
    feats = model.extract_feat(torch.randn(2, 3, 16, 16))
    assert feats.last.grad_fn is None and feats.last.shape == (2, 16, 4, 4)
    losses = model.loss(torch.randn(2, 3, 16, 16), samples(2))
    assert set(losses) == {'decode.loss_cluster_probe', 'decode.loss_linear_probe'}
    sum(losses.values()).backward()
    assert all(p.grad is None for p in model.backbone.parameters())


def test_predict_gives_cluster_ids_and_linear_predictions_at_original_size():
    model = build(num_clusters=5).eval()
    out = model.predict(torch.randn(2, 3, 16, 16), samples(2))
    assert out[0].seg_logits.data.shape == (5, 16, 16)
    assert out[0].pred_sem_seg.data.shape == (1, 16, 16)
    assert int(out[0].pred_sem_seg.data.max()) < 5
    assert out[0].pred_linear_sem_seg.data.shape == (1, 16, 16)


def test_slide_equals_whole_when_one_window_covers_the_image():
    whole = build().eval()
    slide = build(crop_size=(16, 16), stride=(8, 8)).eval()
    slide.test_cfg['mode'] = 'slide'
    x = torch.randn(1, 3, 16, 16)
    torch.testing.assert_close(slide.inference(x, [{}]), whole.inference(x, [{}]))


def test_hflip_average_is_exact_for_equivariant_maps():
    x = torch.randn(2, 3, 4, 6)
    out = hflip_average(lambda t: t * 2, x)
    torch.testing.assert_close(out, x * 2)


def test_unknown_test_mode_is_rejected():
    model = build().eval()
    model.test_cfg['mode'] = 'tiles'
    with pytest.raises(ValueError, match="'tiles'"):
        model.inference(torch.randn(1, 3, 16, 16), [{}])


def test_a_head_that_needs_images_gets_the_uint8_inputs_and_others_get_none():
    model = build().train()
    seen = []
    model.decode_head.loss = lambda feats, views, samples, images=None: seen.append(images) or {}
    inputs = torch.randn(1, 3, 16, 16)
    model.loss(inputs, samples(1))
    type(model.decode_head).needs_images = property(lambda self: True)
    try:
        model.loss(inputs, samples(1))
    finally:
        del type(model.decode_head).needs_images
    assert seen[0] is None
    assert torch.equal(seen[1], (inputs * 2 + torch.tensor([1.0, 2.0, 3.0]).view(3, 1, 1))
                       .round().clamp(0, 255).to(torch.uint8))
    assert not hasattr(model.extract_feat(inputs), 'images')
