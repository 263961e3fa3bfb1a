"""HP: positive sets, loss value, reweighting and chunking on hand-made patches."""
import math

import pytest
import torch

from mmuss.models.losses.hidden_positive_loss import (
    HiddenPositiveLoss,
    anchor_reweighting,
    hidden_positive_anchors,
    hidden_positive_mask,
    pool_thresholds,
)
from mmuss.models.losses.patch_consistency_loss import patch_consistency

# Two images of two patches: p0, p1 (image 0), p2, p3 (image 1); unit 2-d features.
F = torch.tensor([[1., 0.], [0.8, 0.6], [0., 1.], [0.6, 0.8]])
# sims: p0p1 .8, p0p2 0, p0p3 .6, p1p2 .6, p1p3 .96, p2p3 .8
POOL = torch.tensor([[0.28, 0.96]])  # thresholds R = F @ POOL: .28, .8, .96, .936


def lse(*xs):
    return math.log(sum(math.exp(x) for x in xs))


def test_thresholds_are_best_pool_match():
    pool = torch.cat([POOL, torch.tensor([[1., 0.]])])
    assert torch.allclose(pool_thresholds(F, pool, chunk_size=3),
                          torch.tensor([1., 0.8, 0.96, 0.936]))


def test_positive_sets_of_a_constructed_batch():
    r = pool_thresholds(F, POOL)
    assert torch.allclose(r, torch.tensor([0.28, 0.8, 0.96, 0.936]))
    mask = hidden_positive_mask(F @ F.T, r, r, torch.arange(4))
    # p0: p1 (.8 > R0 .28), p3 (.6 > .28); p2 (0) beats neither R0 nor R2.
    # p1: p0 only through p0's own threshold (.8 is not > R1 = .8, but > R0 = .28);
    #     p3 (.96 > .8); p2 (.6) beats neither .8 nor .96.
    # p2: nothing (its best, .8 with p3, is below R2 = .96 and R3 = .936) -> invalid anchor.
    # p3: p0 (.6 > R0), p1 (.96 > .936); the anchor itself never counts.
    expected = torch.tensor([[0, 1, 0, 1], [1, 0, 0, 1], [0, 0, 0, 0], [1, 1, 0, 0]]).bool()
    assert torch.equal(mask, expected)
    assert torch.equal(mask, mask.T)  # the OR rule makes the relation symmetric


def test_ghp_plus_lhp_value_for_the_constructed_batch():
    """λ = 0, ρ = 0 (denominator = the positives), τ = τ₀ = 1, z = m = f.

    g0 = (.8 + .6)/2 − lse(.8, .6); g1 = (.8 + .96)/2 − lse(.8, .96);
    g3 = (.6 + .96)/2 − lse(.6, .96); p2 is not an anchor; every ω = 1.
    L(image 0) = −(g0 + g1)/2, L(image 1) = −g3; L_HP = (2L0 + 2L1)/(2·2).
    """
    loss = HiddenPositiveLoss(temperature=1.0, base_temperature=1.0, neg_ratio=0.0)
    out = loss(F, F, F, F, POOL, POOL, lam=0.0, patches_per_image=2)
    g0 = 0.7 - lse(0.8, 0.6)
    g1 = 0.88 - lse(0.8, 0.96)
    g3 = 0.78 - lse(0.6, 0.96)
    expected = (-(g0 + g1) / 2 - g3) / 2
    assert out['loss_hp'].item() == pytest.approx(expected, abs=1e-6)
    assert out['hp_valid_ratio'].item() == pytest.approx(0.75)


def test_task_specific_positives_are_weighted_by_lambda_and_numerator_only():
    """Anchor p0 with A = {1, 3} and, from the EMA code, T = {1, 2}: W = (0, 1+λ, λ, 1).

    p2 is not in the denominator (ρ = 0), so ℓ02 = z0·z2/τ − lse over {1, 3}.
    """
    lam, tau = 0.5, 1.0
    s = torch.tensor([[1., 0.], [1., 0.], [1., 0.], [0., 1.]])
    pool_sp = torch.tensor([[0., 1.]])  # R^sp = (0, 0, 0, 1): p0 ~ p1, p2 (sim 1 > 0)
    r_ag = pool_thresholds(F, POOL)
    r_sp = pool_thresholds(s, pool_sp)
    z = F
    g, _, wsum, valid = hidden_positive_anchors(
        z[:1], z, z[:1], z, F[:1], F, s[:1], s, r_ag[:1], r_ag, r_sp[:1], r_sp,
        torch.zeros(2, 4, dtype=torch.bool), torch.tensor([0]), lam, tau)
    log_norm = lse(0.8, 0.6)
    expected = ((1 + lam) * (0.8 - log_norm) + lam * (0.0 - log_norm) + (0.6 - log_norm)) / (
        2 + 2 * lam)
    assert g.item() == pytest.approx(expected, abs=1e-6)
    assert wsum.item() == pytest.approx(2 + 2 * lam) and bool(valid)


def test_random_negatives_join_the_denominator_with_a_pattern_shared_by_images():
    # U row 0 (first patch of each image) adds column 2 -> denominator of p0 is {1, 2, 3}.
    r = pool_thresholds(F, POOL)
    u = torch.tensor([[False, False, True, False], [False, False, False, False]])
    g, *_ = hidden_positive_anchors(F[:1], F, F[:1], F, F[:1], F, F[:1], F, r[:1], r, r[:1], r,
                                    u, torch.tensor([0]), 0.0, 1.0)
    assert g.item() == pytest.approx(0.7 - lse(0.8, 0.0, 0.6), abs=1e-6)


def test_anchor_reweighting_has_mean_one_over_valid_anchors_per_image():
    wsum = torch.tensor([1., 3., 5., 2., 4.])
    valid = torch.tensor([True, True, False, True, True])
    image = torch.tensor([0, 0, 0, 1, 1])
    omega = anchor_reweighting(wsum, valid, image, 2)
    assert torch.allclose(omega, torch.tensor([0.5, 1.5, 0., 2 / 3, 4 / 3]))


def test_chunked_equals_unchunked_in_value_and_gradient():
    torch.manual_seed(0)
    n, num = 6, 24
    feats, ema = torch.randn(num, 5), torch.randn(num, 4)
    proj, local = torch.randn(num, 4, requires_grad=True), torch.randn(num, 4, requires_grad=True)
    pool_ag = torch.nn.functional.normalize(torch.randn(3, 5), dim=1)
    pool_sp = torch.nn.functional.normalize(torch.randn(3, 4), dim=1)
    u = torch.rand(n, num) < 0.3
    results = []
    for chunk in (None, 5, 6):
        loss = HiddenPositiveLoss(temperature=0.5, neg_ratio=0.3, chunk_size=chunk)
        value = loss(feats, ema, proj, local, pool_ag, pool_sp, 0.3, n, random_negatives=u)
        grads = torch.autograd.grad(value['loss_hp'], (proj, local))
        results.append((value['loss_hp'].detach(), grads))
    for value, grads in results[1:]:
        assert torch.allclose(value, results[0][0], atol=1e-6)
        for a, b in zip(grads, results[0][1], strict=True):
            assert torch.allclose(a, b, atol=1e-6)


def test_image_without_valid_anchor_contributes_zero_not_nan():
    # The pool holds every patch, so every threshold is 1 and no pair exceeds it.
    proj = F.clone().requires_grad_(True)
    out = HiddenPositiveLoss(neg_ratio=0.5)(F, F, proj, proj, F, F, 1.0, 2)
    out['loss_hp'].backward()
    assert out['loss_hp'].item() == 0.0 and torch.isfinite(proj.grad).all()


def test_bad_shapes_are_refused():
    loss = HiddenPositiveLoss()
    with pytest.raises(ValueError, match='not a whole number of images'):
        loss(F, F, F, F, POOL, POOL, 0.0, 3)


def test_consistency_is_mean_l2_distance_of_unit_projections():
    proj = torch.tensor([[2., 0.], [0., 3.]])
    aug = torch.tensor([[0., 1.], [0., 1.]])
    # row 0: |(1,0) − (0,1)| = √2; row 1: 0 (+ ε per coordinate: ε√2)
    assert patch_consistency(proj, aug, eps=0.0).item() == pytest.approx(math.sqrt(2) / 2)
