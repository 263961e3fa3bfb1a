"""Shared probes: cosine scores, the k-means loss, PCA/k-means init, no gradient leaks."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmuss.models.utils import (ClusterProbe, LinearProbe, cluster_probe_loss,
                                cosine_cluster_scores, feature_moments, linear_probe_loss,
                                principal_directions_from_moments, spherical_kmeans_centres)


def test_cosine_scores_hand_computed():
    feats = torch.tensor([[3.0, 0.0], [1.0, 1.0]]).T.reshape(1, 2, 1, 2)  # pixels (3,0), (1,1)
    protos = torch.tensor([[2.0, 0.0], [0.0, -5.0]])
    s = cosine_cluster_scores(feats, protos)
    expected = torch.tensor([[1.0, 1 / math.sqrt(2)], [0.0, -1 / math.sqrt(2)]]).reshape(1, 2, 1, 2)
    torch.testing.assert_close(s, expected)


def test_cluster_loss_is_minus_mean_of_best_score_and_trains_winner_only():
    protos = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]], requires_grad=True)
    feats = torch.tensor([[2.0, 1.0], [0.1, 1.0]]).T.reshape(1, 2, 1, 2)
    s = cosine_cluster_scores(feats, protos)
    loss = cluster_probe_loss(s)
    best = [2 / math.sqrt(5), 1 / math.sqrt(1.01)]
    assert loss.item() == pytest.approx(-(best[0] + best[1]) / 2, abs=1e-6)
    loss.backward()
    assert protos.grad[2].abs().sum() == 0  # never the winner
    assert protos.grad[0].abs().sum() > 0 and protos.grad[1].abs().sum() > 0


def test_probes_read_detached_features():
    feats = torch.randn(2, 4, 3, 3, requires_grad=True)
    cluster, linear = ClusterProbe(4, 3), LinearProbe(4, 2)
    labels = torch.randint(0, 2, (2, 6, 6))
    (cluster.loss(feats) + linear.loss(feats, labels)).backward()
    assert feats.grad is None
    assert cluster.prototypes.grad is not None and linear.conv.weight.grad is not None


def test_linear_probe_loss_matches_cross_entropy_of_upsampled_logits():
    logits = torch.randn(1, 3, 2, 2)
    labels = torch.tensor([[[0, 1, 2, 255], [1, 1, 0, 2], [2, 0, 255, 1], [0, 0, 1, 1]]])
    up = F.interpolate(logits, size=(4, 4), mode='bilinear', align_corners=False)
    logp = up.log_softmax(1)[0]
    valid = [(i, j) for i in range(4) for j in range(4) if labels[0, i, j] != 255]
    expected = -sum(logp[labels[0, i, j], i, j] for i, j in valid) / len(valid)
    torch.testing.assert_close(linear_probe_loss(logits, labels), expected)
    with pytest.raises(ValueError, match='Label value 7'):
        linear_probe_loss(logits, torch.full((1, 4, 4), 7))


def test_linear_probe_loss_gradient_equals_autograd_of_the_batched_formula():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 4, 5, 6, generator=gen)
    labels = torch.randint(0, 4, (3, 11, 13), generator=gen)
    labels[1, :4] = 255
    labels[2] = 255  # an image without a labelled pixel
    mine, plain = logits.clone().requires_grad_(True), logits.clone().requires_grad_(True)
    (2.0 * linear_probe_loss(mine, labels)).backward()
    up = F.interpolate(plain, size=(11, 13), mode='bilinear', align_corners=False)
    (2.0 * F.cross_entropy(up, labels, ignore_index=255)).backward()
    torch.testing.assert_close(mine.grad, plain.grad)
    with torch.no_grad():  # no gradient wanted: the value alone, float32 as cross-entropy gives
        half = linear_probe_loss(logits.half(), labels)
    assert half.dtype == torch.float32


def test_principal_directions_of_known_covariance():
    gen = torch.Generator().manual_seed(0)
    # variance 9 along (1,1,0)/√2, 1 along (0,0,1), 0.01 along (1,-1,0)/√2, mean offset
    basis = torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, -1.0, 0.0]])
    basis = basis / basis.norm(dim=1, keepdim=True)
    coeffs = torch.randn(20000, 3, generator=gen) * torch.tensor([3.0, 1.0, 0.1])
    samples = coeffs @ basis + torch.tensor([5.0, -2.0, 1.0])
    dirs = principal_directions_from_moments(*feature_moments(samples), 2).float()
    # sign rule: largest-magnitude entry positive -> (+,+,0)/√2 and (0,0,+1)
    torch.testing.assert_close(dirs, basis[:2], atol=2e-2, rtol=0)


def test_spherical_kmeans_recovers_separated_directions():
    gen = torch.Generator().manual_seed(1)
    centres = torch.eye(3)
    samples = torch.cat([c + 0.05 * torch.randn(50, 3, generator=gen) for c in centres])
    found = spherical_kmeans_centres(samples, 3, seed=0)
    match = (found @ centres.T).max(dim=1).values
    assert (match > 0.99).all()
    assert sorted((found @ centres.T).argmax(dim=1).tolist()) == [0, 1, 2]
