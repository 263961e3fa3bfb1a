"""HP's optimiser settings through mmengine: per-group lr/decay and head-only clipping."""
import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmseg.registry import MODELS

from ...stego_hp_toys import toy_segmentor_cfg

HP_OPTIM = dict(
    type='OptimWrapper', constructor='SubsetClipOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=5e-4, weight_decay=0.1),
    clip_grad=dict(max_norm=10.0),
    clip_prefixes=('decode_head.linear.', 'decode_head.nonlinear.'),
    paramwise_cfg=dict(custom_keys={
        'decode_head.project_head': dict(decay_mult=0.0),
        'decode_head.linear_probe': dict(lr_mult=2.0, decay_mult=0.0),
        'decode_head.cluster_probe': dict(lr_mult=10.0, decay_mult=0.0)}))


def hp_model():
    return MODELS.build(toy_segmentor_cfg(dict(type='HPHead', channels=6, num_classes=3,
                                               pool_size=2)))


def test_param_groups_follow_the_hp_table():
    model = hp_model()
    wrapper = build_optim_wrapper(model, HP_OPTIM)
    by_param = {id(p): g for g in wrapper.optimizer.param_groups for p in g['params']}
    head = model.decode_head
    expected = {  # (lr, weight decay): head AdamW 5e-4/0.1, project Adam 5e-4, probes 1e-3/5e-3
        head.linear.weight: (5e-4, 0.1), head.nonlinear[0].bias: (5e-4, 0.1),
        head.project_head.weight: (5e-4, 0.0), head.linear_probe.conv.weight: (1e-3, 0.0),
        head.cluster_probe.prototypes: (5e-3, 0.0)}
    for param, (lr, wd) in expected.items():
        group = by_param[id(param)]
        assert group['lr'] == pytest.approx(lr) and group['weight_decay'] == pytest.approx(wd)


def test_only_the_head_is_clipped():
    model = hp_model()
    wrapper = build_optim_wrapper(model, HP_OPTIM)
    head = model.decode_head
    clipped = list(head.linear.parameters()) + list(head.nonlinear.parameters())
    for p in model.parameters():
        if p.requires_grad:
            p.grad = torch.full_like(p, 100.0)
    wrapper._clip_grad()
    norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in clipped]))
    assert norm.item() == pytest.approx(10.0, rel=1e-4)
    for p in [*head.project_head.parameters(), *head.linear_probe.parameters(),
              head.cluster_probe.prototypes]:
        assert torch.all(p.grad == 100.0)


def test_prefix_matching_nothing_fails_clearly():
    cfg = dict(HP_OPTIM, clip_prefixes=('decode_head.not_there',))
    with pytest.raises(KeyError, match="'decode_head.not_there' matches no parameter"):
        build_optim_wrapper(hp_model(), cfg)
