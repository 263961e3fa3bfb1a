"""StegoHead: projection, detach points and the segmentor's extra views."""
import pytest
import torch
from mmseg.registry import MODELS

from mmuss.models.utils import BackboneOutput

from ...stego_hp_toys import samples, toy_segmentor_cfg

STEGO_HEAD = dict(type='StegoHead', channels=6, num_classes=3, num_clusters=4,
                  loss_corr=dict(type='StegoCorrelationLoss', feature_samples=3))


def head_grads(head, loss_keys):
    head.zero_grad()
    torch.manual_seed(0)
    feats = BackboneOutput([torch.randn(2, 8, 4, 4)])
    partner = BackboneOutput([torch.randn(2, 8, 4, 4)])
    losses = head.loss(feats, dict(knn_img=partner), samples(2, 4))
    sum(v for k, v in losses.items() if k in loss_keys).backward()
    return {n: p.grad.clone() for n, p in head.named_parameters()
            if p.grad is not None and not n.startswith(('cluster_probe', 'linear_probe'))}


def test_code_is_linear_plus_nonlinear_branch_without_dropout():
    head = MODELS.build(dict(STEGO_HEAD, in_channels=8, dropout_ratio=0.0))
    x = torch.randn(2, 8, 4, 4)
    expected = head.linear(x) + head.nonlinear[2](torch.relu(head.nonlinear[0](x)))
    assert torch.allclose(head(BackboneOutput([x])), expected)
    assert head(BackboneOutput([x])).shape == (2, 6, 4, 4)


def test_branches_draw_independent_channel_masks():
    head = MODELS.build(dict(STEGO_HEAD, in_channels=8, dropout_ratio=0.5, nonlinear=False))
    head.train()
    x = torch.ones(1, 8, 1, 1)
    dropped = head.dropped_feats(BackboneOutput([x]))
    assert set(dropped.flatten().tolist()) <= {0.0, 2.0}  # Dropout2d scales by 1/(1-p)
    masks = {tuple(head.dropped_feats(BackboneOutput([x])).flatten().tolist()) for _ in range(20)}
    assert len(masks) > 1
    head.eval()
    assert torch.equal(head.dropped_feats(BackboneOutput([x])), x)


def test_probes_do_not_change_the_head_gradients():
    head = MODELS.build(dict(STEGO_HEAD, in_channels=8))
    head.train()
    corr_keys = {'loss_corr_self', 'loss_corr_knn', 'loss_corr_rand'}
    method_only = head_grads(head, corr_keys)
    with_probes = head_grads(head, corr_keys | {'loss_cluster_probe', 'loss_linear_probe'})
    assert method_only.keys() == with_probes.keys() and method_only
    for name, grad in method_only.items():
        assert torch.equal(grad, with_probes[name]), name
    probes_only = head_grads(head, {'loss_cluster_probe', 'loss_linear_probe'})
    assert not probes_only  # probe losses leave every head parameter without gradient


def test_missing_view_names_the_view_and_the_fix():
    head = MODELS.build(dict(STEGO_HEAD, in_channels=8))
    assert head.view_names == ('knn_img', )
    with pytest.raises(KeyError, match="'knn_img'.*view_names"):
        head.loss(BackboneOutput([torch.randn(1, 8, 4, 4)]), {}, samples(1, 4))


def test_segmentor_encodes_views_and_keeps_the_backbone_without_gradient():
    model = MODELS.build(toy_segmentor_cfg(STEGO_HEAD))
    model.train()
    data = model.data_preprocessor(
        dict(inputs=[torch.randint(0, 256, (3, 16, 16), dtype=torch.uint8) for _ in range(2)],
             data_samples=samples(2)), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert {'decode.loss_corr_self', 'decode.loss_corr_knn', 'decode.loss_corr_rand',
            'decode.loss_cluster_probe', 'decode.loss_linear_probe'} <= set(losses)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is None for p in model.backbone.parameters())
    assert model.decode_head.linear.weight.grad is not None


def test_segmentor_view_is_normalised_like_the_input():
    model = MODELS.build(toy_segmentor_cfg(STEGO_HEAD))
    img = torch.randint(0, 256, (3, 16, 16), dtype=torch.uint8)
    batch = samples(1)
    batch[0].set_field(img.clone(), 'knn_img')
    data = model.data_preprocessor(dict(inputs=[img], data_samples=batch), True)
    views = model.encode_views(data['inputs'], data['data_samples'])
    assert torch.equal(views['knn_img'].last, model.extract_feat(data['inputs']).last)


def test_segmentor_refuses_missing_view_field():
    model = MODELS.build(toy_segmentor_cfg(dict(STEGO_HEAD, knn_view='img_aug')))
    data = model.data_preprocessor(
        dict(inputs=[torch.randint(0, 256, (3, 16, 16), dtype=torch.uint8)],
             data_samples=samples(1)), True)
    with pytest.raises(KeyError, match="'img_aug'.*data sample 0"):
        model.loss(data['inputs'], data['data_samples'])
