"""CAUSE's concept-wise contrastive loss on a tiny clusterbook, computed by hand."""
import math

import pytest
import torch

from mmuss.models.losses.cause_contrastive_loss import (CauseContrastiveLoss, ConceptPairs,
                                                        concept_contrastive_loss,
                                                        concept_info_nce, unit_anchor_factors)

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


IDENTITY = (torch.eye(2), torch.zeros(2))  # projection z = c: the anchors are the student code


def loss(**kwargs):
    return concept_contrastive_loss(unit(STUDENT)[None], *IDENTITY, unit(TEACHER)[None],
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
    codes = torch.tensor([0, 1, 2])
    anchors, v = unit_anchor_factors(torch.ones(1, 1), torch.ones(1, 1), torch.zeros(1))
    pairs = ConceptPairs(rows, codes, 0.3, 0.1, exclude_self=False)
    total = concept_info_nce(anchors, v, keys, pairs, torch.ones(1), 0.1, chunk=2)
    assert pairs.num_pos.item() == 1
    expected = -2.0 + math.log(math.exp(2.0) + math.exp(-4.0))
    assert total.item() == pytest.approx(expected, abs=1e-6)


def test_factors_give_the_normalised_projection():
    gen = torch.Generator().manual_seed(1)
    code, weight, bias = torch.randn(5, 3, generator=gen), torch.randn(7, 3, generator=gen), \
        torch.randn(7, generator=gen)
    anchors, v = unit_anchor_factors(code, weight, bias)
    plain = torch.nn.functional.normalize(code @ weight.T + bias, dim=1)
    assert torch.allclose(anchors @ v.T, plain, atol=1e-6)


@pytest.mark.parametrize('exclude_self', [False, True])
def test_streamed_loss_and_gradient_equal_autograd_of_the_plain_sum(exclude_self):
    gen = torch.Generator().manual_seed(0)
    code = torch.randn(6, 3, generator=gen)
    weight, bias = torch.randn(5, 3, generator=gen), torch.randn(5, generator=gen)
    keys = torch.nn.functional.normalize(torch.randn(8, 5, generator=gen), dim=1)
    rows = torch.rand(6, 3, generator=gen) * 2 - 1
    rows[2] = -1.0  # an anchor without positives
    codes = torch.randint(3, (8, ), generator=gen)
    if not exclude_self:
        codes[7] = -1  # an empty bank slot: no pair at all
    rows[torch.arange(6), codes[:6]] = 1.0  # an anchor's own concept, as cos(c, c)
    rows[2] = -1.0
    weights = torch.arange(1.0, 7.0)
    params = [[t.clone().requires_grad_(True) for t in (code, weight, bias)] for _ in range(2)]
    anchors, v = unit_anchor_factors(*params[0])
    pairs = ConceptPairs(rows, codes, 0.3, 0.1, exclude_self)
    concept_info_nce(anchors, v, keys, pairs, weights, 0.2, chunk=3).backward()
    c2, w2, b2 = params[1]
    logits = torch.nn.functional.normalize(c2 @ w2.T + b2, dim=1) @ keys.T / 0.2
    plain, plain_counts = [], []
    for i in range(6):
        g = torch.where(codes >= 0, rows[i, codes.clamp_min(0)], 0.2)
        if exclude_self:
            g[i] = 0.2  # neither positive nor negative
        pos, keep = g > 0.3, (g > 0.3) | (g < 0.1)
        plain.append(sum((-logits[i, j] + torch.logsumexp(logits[i][keep], 0)
                          for j in range(8) if pos[j]), torch.zeros(())))
        plain_counts.append(int(pos.sum()))
    (torch.stack(plain) * weights).sum().backward()
    assert pairs.num_pos.tolist() == plain_counts and plain_counts[2] == 0
    for got, want in zip(params[0], params[1]):
        assert torch.allclose(got.grad, want.grad, atol=1e-5)


def test_weighted_total_equals_the_plain_sum():
    gen = torch.Generator().manual_seed(3)
    code, weight, bias = torch.randn(4, 2, generator=gen), torch.randn(3, 2, generator=gen), \
        torch.randn(3, generator=gen)
    keys = torch.nn.functional.normalize(torch.randn(5, 3, generator=gen), dim=1)
    rows = torch.tensor([[1.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 1.0], [1.0, 0.5, 0.0]])
    codes = torch.tensor([0, 1, 2, 0, 2])
    anchors, v = unit_anchor_factors(code, weight, bias)
    pairs = ConceptPairs(rows, codes, 0.3, 0.1, exclude_self=False)
    total = concept_info_nce(anchors, v, keys, pairs, torch.tensor([1.0, 2, 3, 4]), 0.5)
    a = torch.nn.functional.normalize(code @ weight.T + bias, dim=1)
    expected = 0.0
    for i in range(4):
        g = rows[i, codes]
        keep = [j for j in range(5) if g[j] > 0.3 or g[j] < 0.1]
        denominator = math.log(sum(math.exp(float(a[i] @ keys[j]) / 0.5) for j in keep))
        expected += (i + 1) * sum(-float(a[i] @ keys[j]) / 0.5 + denominator
                                  for j in range(5) if g[j] > 0.3)
    assert total.item() == pytest.approx(expected, rel=1e-5)


def test_gradient_reaches_the_student_only():
    student = unit(STUDENT)[None].requires_grad_(True)
    weight, bias = (t.clone().requires_grad_(True) for t in IDENTITY)
    teacher = unit(TEACHER)[None].requires_grad_(True)
    CauseContrastiveLoss(temperature=TAU)(student, weight, bias, teacher,
                                          torch.tensor([[0, 1, 2]]), CODEBOOK).backward()
    assert teacher.grad is None
    for param in (student, weight, bias):
        assert param.grad is not None and param.grad.abs().sum() > 0


def test_no_positive_pair_gives_a_finite_zero():
    student = unit(STUDENT[:2])[None].requires_grad_(True)
    out = concept_contrastive_loss(student, *IDENTITY, unit(TEACHER[:2])[None],
                                   torch.tensor([[0, 2]]), CODEBOOK)
    out.backward()
    assert out.item() == 0.0 and torch.isfinite(student.grad).all()


def test_negative_threshold_above_positive_threshold_is_refused():
    with pytest.raises(ValueError, match='neg_thresh=0.5 must not exceed pos_thresh=0.3'):
        CauseContrastiveLoss(pos_thresh=0.3, neg_thresh=0.5)


def test_autocast_inputs_give_the_float32_loss():
    gen = torch.Generator().manual_seed(4)
    code = torch.randn(2, 6, 3, generator=gen).bfloat16()
    weight, bias = torch.randn(5, 3, generator=gen), torch.randn(5, generator=gen)
    proj_ema = torch.randn(2, 6, 5, generator=gen).bfloat16()
    codes = torch.randint(4, (2, 6), generator=gen)
    codebook = torch.randn(4, 3, generator=gen)
    bank = torch.nn.functional.normalize(torch.randn(8, 5, generator=gen), dim=1).half()
    bank_codes = torch.tensor([0, 1, -1, 3, 2, 2, -1, 0])
    args = (codes, codebook, bank, bank_codes)
    with torch.autocast('cpu', dtype=torch.bfloat16):  # lowers matrix products to bf16
        mixed = concept_contrastive_loss(code, weight, bias, proj_ema, *args)
    plain = concept_contrastive_loss(code.float(), weight, bias, proj_ema.float(), *args)
    assert mixed.dtype == torch.float32
    assert mixed.item() == pytest.approx(plain.item(), rel=1e-6)


def test_a_bank_without_used_slots_adds_nothing():
    student = unit(STUDENT)[None]
    args = (unit(TEACHER)[None], torch.tensor([[0, 1, 2]]), CODEBOOK)
    empty = concept_contrastive_loss(student, *IDENTITY, *args, bank_keys=torch.zeros(2, 2),
                                     bank_codes=torch.tensor([-1, -1]), temperature=TAU)
    assert empty.item() == pytest.approx(in_batch_term(), rel=1e-6)
    with pytest.raises(ValueError, match='bank_keys and bank_codes go together'):
        concept_contrastive_loss(student, *IDENTITY, *args, bank_keys=torch.zeros(2, 2))
