"""HPHead: LHP weights and gradient propagation, EMA head, pools, detach points."""
import math

import pytest
import torch
from mmseg.registry import MODELS

from mmuss.models.decode_heads.hp_head import (
    aggregate_local,
    local_attention_weights,
    row_quantile,
    window_mask,
)
from mmuss.models.utils import BackboneOutput

from ...stego_hp_toys import samples, toy_segmentor_cfg

SIGMA = 3.0


def hand_attention():
    """3×3 grid, one head. Row 0: spike 5·ln2 at key 1; row 4: ln 3.5 at keys 2 and 6;
    row 8: spike 5·ln2 at key 0 (outside its window); other rows random."""
    torch.manual_seed(0)
    attn = torch.randn(1, 1, 9, 9)
    attn[0, 0, 0] = 0.0
    attn[0, 0, 0, 1] = 5 * math.log(2)
    attn[0, 0, 4] = 0.0
    attn[0, 0, 4, [2, 6]] = math.log(3.5)
    attn[0, 0, 8] = 0.0
    attn[0, 0, 8, 0] = 5 * math.log(2)
    return attn


def test_window_sizes_are_9_6_4():
    sizes = window_mask(4, 4).sum(dim=1).reshape(4, 4)
    assert sizes.tolist() == [[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6], [4, 6, 6, 4]]
    assert window_mask(3, 3)[0].nonzero().flatten().tolist() == [0, 1, 3, 4]


def test_row_quantile_interpolates_linearly():
    x = torch.tensor([[4., 0., 1., 2., 3.]])
    assert row_quantile(x, 0.1).item() == pytest.approx(0.4)  # pos 0.4 between 0 and 1
    assert row_quantile(x, 0.9).item() == pytest.approx(3.6)


def test_lhp_weights_on_a_hand_made_attention_map():
    weights = local_attention_weights(hand_attention(), 3, 3, sigma=SIGMA)[0]
    # row 0: q0.9 of [0×8, 5ln2] is 0.2·5ln2 = ln2, so the spike is clamped to ln 2:
    # softmax = 2/10 at key 1, 1/10 elsewhere; only key 1 reaches the mean 1/9.
    expected0 = torch.zeros(9)
    expected0[1] = SIGMA * 2 / 10
    assert torch.allclose(weights[0], expected0, atol=1e-6)
    # row 4: q0.9 of [0×7, L, L] is L (no clamping): softmax 3.5/14 at keys 2, 6, 1/14 else.
    expected4 = torch.zeros(9)
    expected4[[2, 6]] = SIGMA / 4
    assert torch.allclose(weights[4], expected4, atol=1e-6)
    # row 8: the only above-mean key (0) lies outside the 3×3 window of patch 8.
    assert torch.count_nonzero(weights[8]) == 0


def test_lhp_sends_gradient_to_exactly_the_selected_neighbours():
    weights = local_attention_weights(hand_attention(), 3, 3, sigma=SIGMA)
    sizes = window_mask(3, 3).sum(dim=1)
    code = torch.randn(1, 2, 3, 3, requires_grad=True)
    local = aggregate_local(code, weights, sizes)
    grad4, = torch.autograd.grad(local[0, 0].flatten()[4], code, retain_graph=True)
    expected = torch.zeros(9)
    expected[[2, 6]] = (SIGMA / 4) / 9  # P_4j / |W_4|
    assert torch.allclose(grad4[0, 0].flatten(), expected, atol=1e-7)
    assert torch.count_nonzero(grad4[0, 1]) == 0
    grad0, = torch.autograd.grad(local[0, 1].flatten()[0], code)
    expected = torch.zeros(9)
    expected[1] = (SIGMA * 2 / 10) / 4  # corner window of 4
    assert torch.allclose(grad0[0, 1].flatten(), expected, atol=1e-7)


def test_attention_not_matching_the_grid_is_refused():
    with pytest.raises(ValueError, match='3×3 feature grid'):
        local_attention_weights(torch.zeros(1, 1, 16, 16), 3, 3)


HP_HEAD = dict(type='HPHead', channels=6, num_classes=3, num_clusters=4, pool_size=4,
               ema_momentum=0.9, sigma=4.0,
               loss_hp=dict(type='HiddenPositiveLoss', temperature=0.5, chunk_size=16),
               loss_consistency=dict(type='PatchConsistencyLoss', loss_weight=0.05))


def build_model():
    torch.manual_seed(0)
    model = MODELS.build(toy_segmentor_cfg(HP_HEAD))
    model.train()
    data = model.data_preprocessor(
        dict(inputs=[torch.randint(0, 256, (3, 16, 16), dtype=torch.uint8) for _ in range(2)],
             data_samples=samples(2, views=('img_aug', ))), True)
    head = model.decode_head
    feats = model.extract_feat(data['inputs'])
    agnostic, specific = head.pool_candidates(feats)
    head.set_pools(torch.cat([agnostic, agnostic]), torch.cat([specific, specific]))
    head.hp_lambda = 0.5
    return model, data


def test_ema_head_and_backbone_get_no_gradient():
    model, data = build_model()
    head = model.decode_head
    losses = model.loss(data['inputs'], data['data_samples'])
    assert {'decode.loss_hp', 'decode.loss_consistency', 'decode.loss_cluster_probe',
            'decode.loss_linear_probe'} <= set(losses)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is None for p in model.backbone.parameters())
    assert all(p.grad is None for p in head.ema_linear.parameters())
    assert all(p.grad is None for p in head.ema_nonlinear.parameters())
    assert head.project_head.weight.grad is not None and head.linear.weight.grad is not None


def test_hp_probes_do_not_change_the_head_gradients():
    grads = []
    for keys in (('loss_hp', 'loss_consistency'), ('loss_hp', 'loss_consistency',
                                                    'loss_cluster_probe', 'loss_linear_probe')):
        model, data = build_model()
        torch.manual_seed(1)
        losses = model.loss(data['inputs'], data['data_samples'])
        sum(v for k, v in losses.items() if k.split('.')[-1] in keys).backward()
        grads.append({n: p.grad.clone() for n, p in model.decode_head.named_parameters()
                      if p.grad is not None and 'probe' not in n})
    assert grads[0].keys() == grads[1].keys() and grads[0]
    for name in grads[0]:
        assert torch.equal(grads[0][name], grads[1][name]), name


def test_empty_pools_and_wrong_pool_shapes_fail_clearly():
    model = MODELS.build(toy_segmentor_cfg(HP_HEAD))
    head = model.decode_head
    with pytest.raises(RuntimeError, match='ReferencePoolHook'):
        head.method_loss(BackboneOutput([torch.randn(1, 16, 4, 4)], attn=torch.randn(1, 2, 16, 16)),
                         {}, torch.randn(1, 6, 4, 4), [])
    with pytest.raises(ValueError, match=r'pool_agnostic must be \(4, 16\)'):
        head.set_pools(torch.zeros(3, 16), torch.zeros(4, 6))
