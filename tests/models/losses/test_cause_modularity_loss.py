"""CAUSE's modularity objective against hand-derived values and a plain re-statement."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmuss.models.losses.cause_modularity_loss import (CauseModularityLoss, modularity_loss,
                                                       modularity_matrix)


def two_pairs():
    """Patches 1,2 along x and 3,4 along y: two disconnected edges."""
    feats = torch.tensor([[[1., 0.], [2., 0.], [0., 1.], [0., 3.]]])
    protos = torch.tensor([[1., 0.], [0., 1.]])
    return feats, protos


def test_modularity_matrix_of_two_edges_by_hand():
    weights, total = modularity_matrix(two_pairs()[0])
    # A has ones between 1-2 and 3-4, degrees 1, e = 4, W = A - 1/4
    adjacency = torch.tensor([[0., 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]])
    assert total.item() == 4.0
    assert torch.allclose(weights[0], adjacency - 0.25)


@pytest.mark.parametrize('temperature', [0.1, 1.0])
def test_two_edges_split_by_two_prototypes(temperature):
    feats, protos = two_pairs()
    # δ is tanh(1/τ) inside each pair (diagonal included), 0 across; each 2x2 block of
    # W sums to 2·0.75 − 2·0.25 = 1, so Q = 2·tanh(1/τ) / 4.
    expected = -0.5 * math.tanh(1 / temperature)
    assert modularity_loss(feats, protos, temperature).item() == pytest.approx(expected, rel=1e-6)


def test_one_prototype_for_everything_scores_zero_modularity_on_disconnected_pairs():
    feats, _ = two_pairs()
    # Prototype (1, 1): C = 1/√2 for every patch, δ_ij = tanh(0.5/τ) everywhere, Σ W = 0.
    loss = modularity_loss(feats, torch.tensor([[1., 1.]]), 0.1)
    assert loss.item() == pytest.approx(0.0, abs=1e-6)


def reference_statement(feats, protos, temperature):
    """Plain re-statement: W/e from clamped cosine affinities, δ = max_k tanh(C C / τ)."""
    unit = F.normalize(feats, dim=2)
    a = (unit @ unit.transpose(1, 2)).clamp(0)
    a = a - a * torch.eye(a.shape[1])
    d = a.sum(dim=2, keepdim=True)
    e = a.sum(dim=(1, 2), keepdim=True)
    w = a - (d / e) @ (d.transpose(2, 1) / e) * e
    c = (unit @ F.normalize(protos, dim=1).T).clamp(0).transpose(2, 1)
    delta = torch.tanh(c.unsqueeze(3) @ c.unsqueeze(2) / temperature).max(dim=1).values
    q = (w / e) @ delta
    return -q.diagonal(dim1=-2, dim2=-1).sum(-1).mean()


def test_matches_the_plain_statement_in_value_and_prototype_gradient():
    gen = torch.Generator().manual_seed(0)
    feats = torch.randn(3, 10, 6, generator=gen)
    protos = torch.randn(300, 6, generator=gen)  # more than one search chunk
    p1 = protos.clone().requires_grad_(True)
    p2 = protos.clone().requires_grad_(True)
    ours = modularity_loss(feats, p1, 0.1)
    ref = reference_statement(feats, p2, 0.1)
    ours.backward()
    ref.backward()
    assert ours.item() == pytest.approx(ref.item(), rel=1e-5)
    assert torch.allclose(p1.grad, p2.grad, atol=1e-6)


def test_features_get_no_gradient_and_module_reads_maps():
    feats = torch.randn(2, 4, 3, 3, requires_grad=True)
    protos = torch.randn(5, 4, requires_grad=True)
    loss = CauseModularityLoss(temperature=0.1, loss_weight=2.0)(feats, protos)
    loss.backward()
    assert feats.grad is None and protos.grad is not None
    flat = feats.detach().flatten(2).transpose(1, 2)
    assert loss.item() == pytest.approx(2 * modularity_loss(flat, protos, 0.1).item())
