"""CAUSE's concept-wise contrastive loss on a tiny clusterbook, computed by hand."""
import math

import pytest
import torch

from mmuss.models.losses.cause_contrastive_loss import (CauseContrastiveLoss,
                                                        concept_contrastive_loss,
                                                        concept_info_nce)

# cos(c0, c1) = 0.8 (positive), cos(c1, c2) = 0.6 (positive), cos(c0, c2) = 0 (negative)
CODEBOOK = torch.tensor([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
TAU = 0.5
STUDENT = [0.0, 1.0, 2.5]   # angles of the student embeddings of patches 0, 1, 2
TEACHER = [0.3, 1.2, -0.7]  # angles of the EMA embeddings


def unit(angles):
    return torch.tensor([[math.cos(a), math.sin(a)] for a in angles])


def s(i, j, keys=TEACHER):
    return math.cos(STUDENT[i] - keys[j])


def ell(i, j, denominator, keys=TEACHER):
    """−s_ij/τ + log Σ_{l in denominator} exp(s_il/τ)."""
    return -s(i, j, keys) / TAU + math.log(sum(math.exp(s(i, k, keys) / TAU)
                                               for k in denominator))


def in_batch_term():
    # anchor 0 (c0): key 1 positive, key 2 negative, itself excluded
    # anchor 1 (c1): keys 0 and 2 positive
    # anchor 2 (c2): key 1 positive, key 0 negative
    pairs = [ell(0, 1, [1, 2]), ell(1, 0, [0, 2]), ell(1, 2, [0, 2]), ell(2, 1, [1, 0])]
    return sum(pairs) / 4


def loss(**kwargs):
    return concept_contrastive_loss(unit(STUDENT)[None], unit(TEACHER)[None],
                                    torch.tensor([[0, 1, 2]]), CODEBOOK, temperature=TAU,
                                    **kwargs)


def test_in_batch_positives_and_negatives_come_from_the_clusterbook():
    assert loss().item() == pytest.approx(in_batch_term(), rel=1e-6)


def test_bank_term_is_averaged_with_the_batch_term():
    bank = [0.9, -2.0]  # bank keys of concepts 0 and 2 (no self-exclusion in the bank)
    # anchor 0: bank 0 positive (g = 1), bank 1 negative; anchor 1: both positive;
    # anchor 2: bank 0 negative, bank 1 positive
    both = [0, 1]
    bank_pairs = [ell(0, 0, both, bank), ell(1, 0, both, bank), ell(1, 1, both, bank),
                  ell(2, 1, both, bank)]
    expected = (in_batch_term() + sum(bank_pairs) / 4) / 2
    # the bank's slots: an empty one (-1) between the keys of concepts 0 and 2
    keys = torch.cat([unit(bank[:1]), torch.zeros(1, 2), unit(bank[1:])])
    got = loss(bank_keys=keys, bank_codes=torch.tensor([0, -1, 2]))
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_pairs_between_the_thresholds_leave_the_denominator():
    keys = torch.tensor([[0.2], [-0.4], [0.9]])  # s = (0.2, -0.4, 0.9) for the anchor (1)
    rows = torch.tensor([[0.5, 0.0, 0.2]])  # concept 0 positive, 1 negative, 2 in between
    total, count = concept_info_nce(torch.ones(1, 1), keys, rows, torch.tensor([0, 1, 2]),
                                    0.1, 0.3, 0.1, chunk=2)
    assert count.item() == 1
    expected = -2.0 + math.log(math.exp(2.0) + math.exp(-4.0))
    assert total.item() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize('exclude_self', [False, True])
def test_streamed_loss_and_gradient_equal_autograd_of_the_plain_sum(exclude_self):
    gen = torch.Generator().manual_seed(0)
    anchors = torch.randn(6, 4, generator=gen)
    keys = torch.nn.functional.normalize(torch.randn(6, 4, generator=gen), dim=1)
    rows = torch.rand(6, 3, generator=gen) * 2 - 1
    rows[2] = -1.0  # an anchor without positives
    codes = torch.randint(3, (6, ), generator=gen)
    a1, a2 = anchors.clone().requires_grad_(True), anchors.clone().requires_grad_(True)
    totals, counts = concept_info_nce(a1, keys, rows, codes, 0.2, 0.3, 0.1, exclude_self, chunk=4)
    (totals * torch.arange(1.0, 7.0)).sum().backward()
    logits = a2 @ keys.T / 0.2
    plain, plain_counts = [], []
    for i in range(6):
        g = rows[i, codes].clone()
        if exclude_self:
            g[i] = 0.2  # neither positive nor negative
        pos, keep = g > 0.3, (g > 0.3) | (g < 0.1)
        plain.append(sum(-logits[i, j] + torch.logsumexp(logits[i][keep], 0)
                         for j in range(6) if pos[j]) * 1.0)
        plain_counts.append(int(pos.sum()))
    (torch.stack([torch.as_tensor(x) for x in plain]) * torch.arange(1.0, 7.0)).sum().backward()
    assert counts.tolist() == plain_counts and totals[2].item() == 0.0
    assert torch.allclose(totals, torch.stack([torch.as_tensor(x) for x in plain]).detach(),
                          atol=1e-5)
    assert torch.allclose(a1.grad, a2.grad, atol=1e-5)


def test_gradient_reaches_the_student_only():
    student = unit(STUDENT)[None].requires_grad_(True)
    teacher = unit(TEACHER)[None].requires_grad_(True)
    CauseContrastiveLoss(temperature=TAU)(student, teacher, torch.tensor([[0, 1, 2]]),
                                          CODEBOOK).backward()
    assert teacher.grad is None
    assert student.grad is not None and student.grad.abs().sum() > 0


def test_no_positive_pair_gives_a_finite_zero():
    student = unit(STUDENT[:2])[None].requires_grad_(True)
    out = concept_contrastive_loss(student, unit(TEACHER[:2])[None], torch.tensor([[0, 2]]),
                                   CODEBOOK)
    out.backward()
    assert out.item() == 0.0 and torch.isfinite(student.grad).all()


def test_negative_threshold_above_positive_threshold_is_refused():
    with pytest.raises(ValueError, match='neg_thresh=0.5 must not exceed pos_thresh=0.3'):
        CauseContrastiveLoss(pos_thresh=0.3, neg_thresh=0.5)
