"""PriMaPs-EM head: vote, focal loss, EMA schedule, gradients (docs/methods/primaps_em.md)."""
import math
from types import SimpleNamespace

import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import HOOKS, MODELS
from mmseg.structures import SegDataSample

from mmuss.models.decode_heads.primaps_em_head import majority_vote_labels, primaps_ema_decay
from mmuss.models.losses.class_focal_loss import class_focal_loss
from mmuss.models.utils import BackboneOutput


def build_head(**kwargs):
    cfg = dict(type='PrimapsEMHead', in_channels=4, num_classes=3, student_view=None)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_majority_vote_on_hand_made_masks():
    mask_ids = torch.tensor([[[1, 1, 1, 255], [2, 2, 3, 3]]])
    preds = torch.tensor([[[0, 2, 2, 1], [1, 1, 0, 2]]])
    # mask 1: {0, 2, 2} → 2; mask 2: {1, 1} → 1; mask 3: {0, 2} tie → smaller id 0
    expected = torch.tensor([[[2, 2, 2, 255], [1, 1, 0, 0]]])
    assert torch.equal(majority_vote_labels(mask_ids, preds, 3), expected)


def test_majority_vote_is_per_image():
    mask_ids = torch.tensor([[[1, 1]], [[1, 1]]])
    preds = torch.tensor([[[2, 2]], [[0, 0]]])
    assert majority_vote_labels(mask_ids, preds, 3).tolist() == [[[2, 2]], [[0, 0]]]


def test_focal_loss_hand_derived():
    # pixel a: z = (0, 0) → p = (1/2, 1/2), label 1; pixel b: z = (ln 3, 0) → (3/4, 1/4), ignored.
    logits = torch.tensor([[[[0.0, math.log(3)]], [[0.0, 0.0]]]])
    labels = torch.tensor([[[1, 255]]])
    # q = (5/8, 3/8) over both pixels; w_1 = (1 − 3/8)² = 25/64; mean over 2 pixels
    expected = 0.5 * (25 / 64) * math.log(2)
    assert class_focal_loss(logits, labels, gamma=2.0).item() == pytest.approx(expected)
    assert class_focal_loss(logits, labels, gamma=0.0).item() == pytest.approx(
        0.5 * math.log(2))
    built = MODELS.build(dict(type='ClassFocalLoss', gamma=2.0))
    assert built(logits, labels).item() == pytest.approx(expected)


def test_ema_decay_sequence():
    expected = [0.0, 0.0] + [min(1 - 1 / c, 0.98) for c in range(3, 61)]
    assert [primaps_ema_decay(c) for c in range(1, 61)] == pytest.approx(expected)
    assert primaps_ema_decay(3) == pytest.approx(2 / 3)
    assert primaps_ema_decay(50) == pytest.approx(0.98) and primaps_ema_decay(500) == 0.98


def test_hook_starts_em_and_sets_the_theta_m_schedule():
    head = build_head()
    runner = SimpleNamespace(model=SimpleNamespace(decode_head=head), iter=0)
    hook = HOOKS.build(dict(type='PrimapsEMHook', warmup_iters=5, interval=10, max_decay=0.9))
    hook.before_train(runner)
    assert (head.teacher.interval, head.teacher.first) == (10, 11)
    assert head.teacher.momentum(50) == 0.9
    for it in range(6):
        runner.iter = it
        hook.before_train_iter(runner, it)
        assert bool(head.em_active) == (it >= 5) == head.teaching


def test_hook_warmup_in_epochs():
    head = build_head()
    runner = SimpleNamespace(model=SimpleNamespace(decode_head=head), iter=5,
                             train_dataloader=[None] * 3)
    hook = HOOKS.build(dict(type='PrimapsEMHook', warmup_epochs=2))
    hook.before_train(runner)
    assert hook.warmup_iters == 6
    hook.before_train_iter(runner, 5)
    assert not head.em_active
    runner.iter = 6
    hook.before_train_iter(runner, 6)
    assert head.em_active


def em_batch(head, with_masks=True):
    torch.manual_seed(0)
    feats = torch.randn(2, 4, 4, 4)
    samples = []
    for i in range(2):
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=torch.randint(0, 3, (1, 8, 8)))
        if with_masks:
            ids = torch.full((1, 8, 8), 255)
            ids[:, :4], ids[:, 4:, :4] = 1, 2
            sample.gt_primaps = PixelData(data=ids)
        samples.append(sample)
    return BackboneOutput([feats]), samples


def test_theta_m_gets_no_gradient_and_theta_r_does():
    head = build_head()
    head.start_em()
    inputs, samples = em_batch(head)
    losses = head.loss(inputs, {}, samples)
    assert set(losses) == {'loss_em_focal', 'loss_linear_probe'}
    sum(losses.values()).backward()
    for param in head.theta_m.parameters():
        assert not param.requires_grad and param.grad is None
    assert head.theta_r.directions.grad.abs().sum() > 0
    assert head.theta_r.gains.grad.abs().sum() > 0
    assert head.cluster_probe.prototypes.grad is None


def test_warm_up_trains_the_cluster_probe_only():
    head = build_head()
    inputs, samples = em_batch(head, with_masks=False)
    losses = head.loss(inputs, {}, samples)
    assert set(losses) == {'loss_cluster_probe', 'loss_linear_probe'}


def test_evaluation_uses_theta_m_by_default():
    head = build_head()
    head.start_em()
    head.theta_r.gains.data.fill_(-1.0)
    code = torch.randn(1, 4, 3, 3)
    logits = head.logits_from_code(code)
    assert torch.allclose(logits['seg'], head.theta_m(code))
    assert torch.allclose(logits['theta_r'], head.theta_r(code))
    running = build_head(eval_prototypes='theta_r')
    running.start_em()
    assert torch.allclose(running.logits_from_code(code)['seg'], running.theta_r(code))


def test_gain_prototype_logits_are_unnormalised():
    head = build_head()
    head.theta_r.directions.data = torch.tensor([[3.0, 4, 0, 0], [0, 0, 1, 0], [0, 0, 0, 2]])
    head.theta_r.gains.data = torch.tensor([2.0, 1.0, 0.5])
    feats = torch.tensor([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1, 1)
    # g_k · <v_k/||v_k||, F>: 2·(3+8)/5, 1·3, 0.5·4
    assert head.theta_r(feats).flatten().tolist() == pytest.approx([4.4, 3.0, 2.0])


def test_online_proposals_when_samples_have_none():
    head = build_head(proposer=dict(type='PrimapsProposer'))
    head.start_em()
    inputs, samples = em_batch(head, with_masks=False)
    assert head.needs_images and not build_head().needs_images
    images = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8)
    assert 'loss_em_focal' in head.loss(inputs, {}, samples, images=images)
    with pytest.raises(ValueError, match='no images'):
        head.loss(inputs, {}, samples)
    no_proposer = build_head()
    no_proposer.start_em()
    with pytest.raises(KeyError, match='gt_primaps'):
        no_proposer.loss(inputs, {}, samples)


def test_missing_student_view_is_named():
    head = build_head(student_view='img_student')
    head.start_em()
    inputs, samples = em_batch(head)
    with pytest.raises(KeyError, match='img_student'):
        head.loss(inputs, {}, samples)
