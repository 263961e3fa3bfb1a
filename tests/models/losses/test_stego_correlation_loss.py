"""STEGO correspondence loss against hand-derived values."""
import math

import pytest
import torch

from mmuss.models.losses.stego_correlation_loss import (
    StegoCorrelationLoss,
    correlation_tensor,
    correspondence_loss,
    pointwise_centred,
    sample_points,
    super_perm,
)


def constant_maps(vectors, size=3):
    """``B×C×size×size`` maps whose every pixel of image b is ``vectors[b]``."""
    v = torch.tensor(vectors, dtype=torch.float32)
    return v[:, :, None, None].expand(-1, -1, size, size).contiguous()


def test_sample_points_hits_pixel_centres_at_the_corners():
    maps = torch.arange(8.).reshape(1, 2, 2, 2)  # channel 0: [[0,1],[2,3]]
    coords = torch.tensor([[[[-1., -1.], [1., -1.]], [[-1., 1.], [0., 0.]]]])
    out = sample_points(maps, coords)
    assert out[0, 0].tolist() == [[0., 1.], [2., 1.5]]  # (0,0) centre = mean of 4 pixels
    assert out[0, 1].tolist() == [[4., 5.], [6., 5.5]]


def test_correlation_tensor_is_cosine_of_point_pairs():
    a = torch.tensor([[[[1., 0.]], [[0., 2.]]]])  # points: (1,0), (0,2)
    b = torch.tensor([[[[3., 1.]], [[3., 0.]]]])  # points: (3,3), (1,0)
    corr = correlation_tensor(a.reshape(1, 2, 1, 2), b.reshape(1, 2, 1, 2))
    assert corr.shape == (1, 1, 2, 1, 2)
    expected = [[1 / math.sqrt(2), 1.0], [1 / math.sqrt(2), 0.0]]
    assert torch.allclose(corr[0, 0, :, 0, :], torch.tensor(expected), atol=1e-6)


def test_pointwise_centring_subtracts_row_means_and_restores_the_global_mean():
    feat_corr = torch.zeros(1, 2, 2, 2, 2)
    feat_corr[0, 0, 0, 0, 0] = 4.0  # one query row [4, 0, 0, 0], row mean 1; global mean 1/4
    out = pointwise_centred(feat_corr)
    assert out[0, 0, 0].flatten().tolist() == [3.25, -0.75, -0.75, -0.75]
    assert torch.all(out[0, 1] == 0.25) and torch.all(out[0, 0, 1] == 0.25)


def test_correspondence_loss_clamps_negative_code_correlations():
    feat = torch.tensor([0.3, 0.9])
    code = torch.tensor([0.5, -0.2])
    # clamp: Cc = [0.5, 0]: -mean(0.5*(0.3-0.1), 0) = -0.05
    assert correspondence_loss(feat, code, 0.1).item() == pytest.approx(-0.05)
    # no clamp: -mean(0.5*0.2, -0.2*0.8) = -(0.1 - 0.16)/2 = 0.03
    assert correspondence_loss(feat, code, 0.1, zero_clamp=False).item() == pytest.approx(0.03)
    # stabilize caps Cc at 0.8
    assert correspondence_loss(torch.tensor([1.0]), torch.tensor([0.9]), 0.0,
                               stabilize=True).item() == pytest.approx(-0.8)


def test_super_perm_has_no_fixed_points():
    gen = torch.Generator().manual_seed(0)
    for size in (2, 3, 7):
        for _ in range(20):
            perm = super_perm(size, gen)
            assert not torch.any(perm == torch.arange(size))
    assert super_perm(2).tolist() == [1, 0]


def test_three_terms_for_known_correlations():
    """Images with constant features/codes, so every sampled point is known.

    feats: image0 = e1, image1 = e2; codes: image0 = (1, 0), image1 = (1/2, √3/2).
    KNN partners: feats image0' = e2, image1' = e1; codes (0, 1), (1, 0).
    - self: F = 1 (centring keeps 1), Cc = 1      -> L = -(1 - b_self)
    - knn:  F = 0, Cc = 0 (image 0) / 1/2 (image 1) -> L = b_knn * mean(Cc) = b_knn / 4
    - rand: the only derangement of 2 images pairs them: F = 0, Cc = 1/2 -> L = b_rand / 2
    """
    loss = StegoCorrelationLoss(weight_self=0.5, weight_knn=2.0, weight_rand=3.0,
                                shift_self=0.2, shift_knn=0.4, shift_rand=0.6,
                                feature_samples=4)
    feats = constant_maps([[1., 0.], [0., 1.]])
    code = constant_maps([[1., 0.], [0.5, math.sqrt(3) / 2]])
    feats_pos = constant_maps([[0., 1.], [1., 0.]])
    code_pos = constant_maps([[0., 1.], [1., 0.]])
    out = loss(feats, code, feats_pos, code_pos)
    assert out['loss_corr_self'].item() == pytest.approx(0.5 * -(1 - 0.2), abs=1e-6)
    assert out['loss_corr_knn'].item() == pytest.approx(2.0 * 0.4 / 4, abs=1e-6)
    assert out['loss_corr_rand'].item() == pytest.approx(3.0 * 0.6 / 2, abs=1e-6)


def test_negative_code_correlation_gets_no_gradient():
    loss = StegoCorrelationLoss(feature_samples=3, neg_samples=0)
    feats = torch.randn(2, 4, 5, 5)
    code = constant_maps([[1., 0., 0.], [1., 0., 0.]], 5).requires_grad_(True)
    anti = (-code).detach().requires_grad_(True)  # Cc = -1 at every pair of points
    loss(feats, code, feats, anti)['loss_corr_knn'].backward()
    assert anti.grad is not None and torch.count_nonzero(anti.grad) == 0


def test_fixed_coordinates_reproduce_manual_terms():
    torch.manual_seed(0)
    loss = StegoCorrelationLoss(feature_samples=2, neg_samples=1, pointwise=False)
    feats, code = torch.randn(3, 4, 5, 5), torch.randn(3, 6, 5, 5)
    feats_pos, code_pos = torch.randn(3, 4, 5, 5), torch.randn(3, 6, 5, 5)
    corners = torch.tensor([[[-1., -1.], [1., -1.]], [[-1., 1.], [1., 1.]]]).expand(3, 2, 2, 2)
    perm = torch.tensor([2, 0, 1])
    out = loss(feats, code, feats_pos, code_pos, coords=(corners, corners), perms=[perm])

    def corner_rows(maps):  # B×4×C, the four corner pixels in (y, x) row-major order
        return torch.nn.functional.normalize(maps[:, :, [0, 0, -1, -1], [0, -1, 0, -1]], dim=1
                                             ).transpose(1, 2)

    def term(fa, fb, ca, cb, shift):
        f = corner_rows(fa) @ corner_rows(fb).transpose(1, 2)
        c = (corner_rows(ca) @ corner_rows(cb).transpose(1, 2)).clamp_min(0)
        return -(c * (f - shift)).mean()

    assert out['loss_corr_self'].item() == pytest.approx(
        0.67 * term(feats, feats, code, code, 0.18).item(), abs=1e-6)
    assert out['loss_corr_knn'].item() == pytest.approx(
        0.25 * term(feats, feats_pos, code, code_pos, 0.12).item(), abs=1e-6)
    assert out['loss_corr_rand'].item() == pytest.approx(
        0.63 * term(feats, feats[perm], code, code[perm], 0.46).item(), abs=1e-6)
