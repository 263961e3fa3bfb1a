"""MaskContrast loss terms against hand-derived values (docs/methods/maskcontrast.md eqs. 2–6)."""
import math

import pytest
import torch

from mmuss.models.losses.maskcontrast_loss import (
    MaskContrastLoss,
    balanced_saliency_bce,
    mask_prototypes,
)


def test_prototype_is_normalised_sum_of_unit_embeddings_inside_the_mask():
    # key pixels (0.6, 0.8), (1, 0) inside, (0, 1) outside: sum (1.6, 0.8) -> (2, 1)/sqrt(5)
    emb = torch.tensor([[[0.6, 1.0, 0.0]], [[0.8, 0.0, 1.0]]])[None]  # 1x2x1x3
    mask = torch.tensor([[[1, 1, 0]]])
    proto = mask_prototypes(emb, mask)
    assert torch.allclose(proto, torch.tensor([[2.0, 1.0]]) / math.sqrt(5))


def test_empty_key_mask_gives_zero_prototype_not_nan():
    proto = mask_prototypes(torch.ones(1, 2, 2, 2), torch.zeros(1, 2, 2))
    assert torch.equal(proto, torch.zeros(1, 2))


def test_contrastive_loss_matches_hand_derivation():
    """2 images, 2-d embeddings, 2 queue entries, T = 0.5.

    Image 0: one salient query pixel e=(1,0); image 1: three salient pixels
    e=(0.6,0.8) and one non-salient pixel. Prototypes P0=(1,0), P1=(0,1);
    queue Q=(-1,0),(0,-1). Logits/T: image-0 pixel [2, 0, -2, 0] (target 0),
    image-1 pixels [1.2, 1.6, -1.2, -1.6] (target 1). E-Net: pi0=1/4,
    pi1=3/4, w=1/ln(1.02+pi).
    """
    q = torch.zeros(2, 2, 2, 2)
    q[0, :, 0, 0] = torch.tensor([1.0, 0.0])
    q[0, :, 0, 1] = q[0, :, 1, 0] = q[0, :, 1, 1] = torch.tensor([0.0, 1.0])
    q[1, :, :, :] = torch.tensor([0.6, 0.8])[:, None, None]
    masks = torch.tensor([[[1, 0], [0, 0]], [[1, 1], [1, 0]]])
    protos = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    queue = torch.tensor([[-1.0, 0.0], [0.0, -1.0]])
    loss = MaskContrastLoss(temperature=0.5, saliency_weight=0.0)
    out = loss(q, torch.zeros(2, 2, 2), masks, protos, queue)

    l0 = -2 + math.log(math.exp(2) + 1 + math.exp(-2) + 1)
    l1 = -1.6 + math.log(math.exp(1.2) + math.exp(1.6) + math.exp(-1.2) + math.exp(-1.6))
    w0, w1 = 1 / math.log(1.02 + 0.25), 1 / math.log(1.02 + 0.75)
    expected = (w0 * l0 + 3 * w1 * l1) / (w0 + 3 * w1)
    assert out['loss_contrastive'].item() == pytest.approx(expected, rel=1e-6)
    assert out['acc_top1'].item() == 1.0
    assert out['loss_saliency'].item() == 0.0


def test_balanced_bce_matches_hand_derivation():
    # 4 pixels, 1 salient: w_pos = 3/4, w_neg = 1/4, divided by 4 pixels
    logits = torch.tensor([[[2.0, -1.0], [0.5, 0.0]]])
    target = torch.tensor([[[1, 0], [0, 0]]])

    def sp(x):  # softplus: -log sigmoid(-x)
        return math.log1p(math.exp(x))
    expected = (0.75 * sp(-2.0) + 0.25 * (sp(-1.0) + sp(0.5) + sp(0.0))) / 4
    assert balanced_saliency_bce(logits, target).item() == pytest.approx(expected, rel=1e-6)


def test_no_salient_query_pixel_gives_finite_zero_contrastive_loss():
    q = torch.nn.functional.normalize(torch.randn(2, 4, 3, 3, requires_grad=True), dim=1)
    out = MaskContrastLoss()(q, torch.randn(2, 3, 3), torch.zeros(2, 3, 3, dtype=torch.long),
                             torch.zeros(2, 4), torch.randn(4, 8))
    assert out['loss_contrastive'].item() == 0.0
    assert torch.isfinite(out['loss_saliency'])
    (out['loss_contrastive'] + out['loss_saliency']).backward()
