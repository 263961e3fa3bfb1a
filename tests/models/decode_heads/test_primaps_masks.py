"""PriMaPs proposals on feature maps of known structure (docs/methods/primaps_em.md)."""
import math

import pytest
import torch

from mmuss.models.decode_heads.primaps.masks import (check_mask_counts, extract_principal_masks,
                                        leading_eigenvector,
                                        mask_ids_from_scores, median_filter3x3,
                                        oriented_scores, primaps_mask_ids, proposal_log_probs)

SIZE, DIMS = 16, 8


def stripes(third: str = 'cluster') -> tuple:
    """Three vertical stripes: A = 4·e0 (cols 0–7), B = 3·e1 (cols 8–12), C (cols 13–15).

    ``third='cluster'``: C = 2·e2 with a 2×2 outlier block 1·e3 at rows 0–1,
    cols 14–15 (4 of 256 pixels); ``third='zero'``: C is all-zero features.
    Noise 0.05 on every non-zero pixel.
    """
    gen = torch.Generator().manual_seed(0)
    feats = torch.zeros(DIMS, SIZE, SIZE)
    feats[0, :, :8] = 4
    feats[1, :, 8:13] = 3
    if third == 'cluster':
        feats[2, :, 13:] = 2
        feats[2, :2, 14:] = 0
        feats[3, :2, 14:] = 1
    nonzero = feats.abs().sum(0) > 0
    feats += 0.05 * torch.randn(DIMS, SIZE, SIZE, generator=gen) * nonzero
    return feats[None]


def stripe_mask(first: int, last: int) -> torch.Tensor:
    mask = torch.zeros(SIZE, SIZE, dtype=torch.bool)
    mask[:, first:last + 1] = True
    return mask


def test_three_clusters_extracted_in_order_until_coverage():
    # Population PCA of the mixture: C = Σ p_i r_i² e_i e_iᵀ − m mᵀ (m = Σ p_i r_i e_i) is
    # dominated by e0 (p·r² = 8 vs 2.8 vs 0.75), so stripe A goes first; B vs C then splits
    # along 3·e1 − 2·e2 (|u_1| > |u_2|), so B; then C alone. The outliers (cosine 0 with C)
    # stay: 252/256 = 98.4 % >= 95 % ends the loop by coverage after three masks.
    found = extract_principal_masks(stripes(), threshold=0.4, coverage=0.95)
    assert found.num_masks.tolist() == [3]
    assert found.stagnated.tolist() == [False]
    masks = found.masks[0] > 0
    outliers = torch.zeros(SIZE, SIZE, dtype=torch.bool)
    outliers[:2, 14:] = True
    assert torch.equal(masks[0], stripe_mask(0, 7))
    assert torch.equal(masks[1], stripe_mask(8, 12))
    assert torch.equal(masks[2], stripe_mask(13, 15) & ~outliers)
    values = found.masks[0][masks]
    assert values.min() >= 0.4 and values.max() <= 1.0


def test_mask_ids_after_median_filter_and_background():
    ids = primaps_mask_ids(stripes())[0]
    expected = torch.full((SIZE, SIZE), 0, dtype=torch.uint8)
    expected[:, :8], expected[:, 8:13], expected[:, 13:] = 1, 2, 3
    # 3×3 reflect-padded median of mask 3 near the outlier block (rows 0–1, cols 14–15):
    # (0,14), (0,15), (1,15) see 3 mask pixels of 9; (0,13) sees 3 and (1,13) 4 (column 12
    # is stripe B) → 0; no other mask covers them → background → 255. (1,14) sees 5 → 3.
    expected[0, 13:] = 255
    expected[1, 13] = expected[1, 15] = 255
    assert ids.dtype == torch.uint8
    assert torch.equal(ids, expected)


def test_zero_feature_remainder_ends_by_stagnation_with_ignore():
    found = extract_principal_masks(stripes('zero'))
    assert found.num_masks.tolist() == [2]
    assert found.stagnated.tolist() == [True]
    ids = primaps_mask_ids(stripes('zero'))[0]
    assert (ids[:, :8] == 1).all() and (ids[:, 8:13] == 2).all() and (ids[:, 13:] == 255).all()


def test_batch_equals_single_images():
    both = torch.cat([stripes(), stripes('zero')])
    batched = primaps_mask_ids(both)
    assert torch.equal(batched[0], primaps_mask_ids(stripes())[0])
    assert torch.equal(batched[1], primaps_mask_ids(stripes('zero'))[0])
    assert torch.equal(batched, primaps_mask_ids(both))  # deterministic


@pytest.mark.parametrize('value', [0.0, 0.7])
def test_constant_features_give_all_ignore_without_nan(value):
    feats = torch.full((2, DIMS, 8, 8), value)
    found = extract_principal_masks(feats)
    assert found.num_masks.tolist() == [0, 0] and found.stagnated.all()
    log_probs = proposal_log_probs(found.masks, found.num_masks)
    assert torch.isfinite(log_probs).all()
    ids = primaps_mask_ids(feats, size=(32, 32))
    assert ids.shape == (2, 32, 32) and (ids == 255).all()


def test_sign_rule_points_at_the_most_aligned_pixel():
    normed = torch.tensor([[[0.2, 0.0], [-0.9, 0.0], [0.5, 0.0], [0.95, 0.0]]])
    valid = torch.tensor([[True, True, True, False]])
    # over valid pixels max + min = 0.5 − 0.9 < 0 → flip: the −0.9 pixel becomes the anchor side
    score = oriented_scores(normed, valid, torch.tensor([[1.0, 0.0]]))
    assert torch.allclose(score[0, :3], torch.tensor([-0.2, 0.9, -0.5]))
    assert score[0, 3] == -math.inf


def test_leading_eigenvector_of_known_matrix():
    basis = torch.linalg.qr(torch.randn(6, 6, generator=torch.Generator().manual_seed(1),
                                        dtype=torch.float64)).Q
    cov = basis @ torch.diag(torch.tensor([1.0, 9.0, 3.0, 0.5, 2.0, 0.1],
                                          dtype=torch.float64)) @ basis.T
    vec, lam = leading_eigenvector(cov[None], tol=1e-10)
    assert lam.item() == pytest.approx(9.0)
    assert abs(float(vec[0] @ basis[:, 1])) == pytest.approx(1.0)


def test_median_filter_hand_case():
    maps = torch.tensor([[[[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]]])
    # (0,0): reflect neighbourhood rows (1,0,1) × cols (1,0,1) = 1,1,1,0,1,0,1,1,1 → 1
    # (1,1): the 3×3 block has three ones → 0
    # (0,1): rows (1,0,1) × cols 0..2 → 1,1,0,1,0,0,1,1,0 → 1
    out = median_filter3x3(maps)[0, 0]
    assert out[0, 0] == 1 and out[1, 1] == 0 and out[0, 1] == 1 and out[2, 2] == 0


def test_weak_unary_and_padding_channels():
    masks = torch.zeros(2, 2, 3, 3)
    masks[0, 0] = 0.5  # image 0: one full mask, the second channel is padding
    masks[1, 0, :, :] = 0.4
    masks[1, 1, :, :] = 0.9  # image 1: two overlapping full masks
    log_probs = proposal_log_probs(masks, torch.tensor([1, 2]))
    probs = log_probs.exp()
    # image 0: logits [bg=0, 1, pad] → p = e/(e+1) on the mask, 0 on the padding channel
    assert probs[0, 1, 1, 1].item() == pytest.approx(math.e / (math.e + 1), rel=1e-5)
    assert probs[0, 2].max().item() < 1e-30
    # image 1: both masks 1, bg = clamp(1 − 2) = 0 → [1, e, e]/(1 + 2e)
    assert probs[1, 0, 0, 0].item() == pytest.approx(1 / (1 + 2 * math.e), rel=1e-5)


def test_more_than_254_masks_fail_clearly():
    mask_ids_from_scores(torch.zeros(1, 255, 2, 2))  # 254 masks fit
    with pytest.raises(ValueError, match='255 masks.*at most 254'):
        mask_ids_from_scores(torch.zeros(1, 256, 2, 2))


def test_mask_count_check_names_the_image():
    check_mask_counts(torch.tensor([3, 254]), ['a.png', 'b.png'])
    with pytest.raises(ValueError, match=r'255 masks in b\.png.*at most 254'):
        check_mask_counts(torch.tensor([3, 255]), ['a.png', 'b.png'])


def test_unstructured_features_fail_fast_beyond_254_masks():
    # 400 mutually orthogonal one-hot features: every mask is a single pixel, 380 would be
    # needed for 95 % coverage; the loop stops at 255 masks and the map is refused.
    feats = torch.eye(400).reshape(400, 20, 20)[None]
    with pytest.raises(ValueError, match='255 masks in image 0 of the batch'):
        primaps_mask_ids(feats)
