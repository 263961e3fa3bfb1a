"""ViT layer maths on hand-computed cases."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmuss.models.backbones.vit.layers import (Attention, LayerScale, ViTBlock, attention_logits,
                                           explicit_attention, interpolate_dino_pos_embed, swiglu,
                                           swiglu_hidden_dims)


def test_attention_logits_and_output_by_hand():
    q = torch.tensor([1.0, 0.0]).reshape(1, 1, 1, 2)
    k = torch.tensor([[1.0, 0.0], [0.0, 2.0]]).reshape(1, 1, 2, 2)
    v = torch.tensor([[10.0, 0.0], [0.0, 10.0]]).reshape(1, 1, 2, 2)
    logits = attention_logits(q, k)
    torch.testing.assert_close(logits, torch.tensor([1 / math.sqrt(2), 0.0]).reshape(1, 1, 1, 2))
    out, same = explicit_attention(q, k, v)
    w0 = math.exp(1 / math.sqrt(2)) / (math.exp(1 / math.sqrt(2)) + 1)
    torch.testing.assert_close(out, torch.tensor([10 * w0, 10 * (1 - w0)]).reshape(1, 1, 1, 2))
    assert torch.equal(same, logits)


def test_sdpa_and_explicit_attention_modules_agree():
    attn = Attention(12, 3)
    x = torch.randn(2, 7, 12)
    sdpa, none = attn(x)
    explicit, extras = attn(x, explicit=True, keep_qkv=True)
    assert none.logits is None and none.qkv is None
    assert extras.logits.shape == (2, 3, 7, 7) and extras.qkv[0].shape == (2, 3, 7, 4)
    torch.testing.assert_close(sdpa, explicit, atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match='not divisible'):
        Attention(10, 3)


def test_swiglu_gate_and_width():
    x12 = torch.tensor([1.0, -1.0, 2.0, 3.0])  # x1 = (1, -1), x2 = (2, 3)
    sig = 1 / (1 + math.exp(-1))
    torch.testing.assert_close(swiglu(x12), torch.tensor([sig * 2, -(1 - sig) * 3]))
    assert swiglu_hidden_dims(1536, 4) == 4096  # DINOv2 giant
    assert swiglu_hidden_dims(100, 4) == 272  # ⌊400·⅔⌋ = 266 → 272


def test_block_residuals_with_layer_scale():
    block = ViTBlock(8, 2, layer_scale=True)
    x = torch.randn(1, 5, 8)
    block.ls1.gamma.data.zero_()
    block.ls2.gamma.data.zero_()
    assert torch.equal(block(x)[0], x)
    torch.testing.assert_close(LayerScale(3, 0.5)(torch.ones(3)), torch.full((3, ), 0.5))
    with pytest.raises(ValueError, match='ffn_type'):
        ViTBlock(8, 2, ffn_type='moe')


def test_pos_embed_skip_rule_and_grid_order():
    pos = torch.arange(5.0).reshape(1, 5, 1)  # class row + 2×2 grid
    assert interpolate_dino_pos_embed(pos, (4, 4), 2) is pos  # pretraining grid, square
    row = interpolate_dino_pos_embed(pos, (2, 8), 2)  # 1×4 grid: 4 patches but not square
    assert row.shape == (1, 5, 1) and row[0, 0, 0] == 0
    grid = pos[:, 1:].reshape(1, 2, 2, 1).permute(0, 3, 1, 2)
    want = F.interpolate(grid, scale_factor=(1.1 / 2, 4.1 / 2), mode='bicubic')
    torch.testing.assert_close(row[0, 1:, 0], want.flatten())
    with pytest.raises(ValueError, match='not a square grid'):
        interpolate_dino_pos_embed(torch.zeros(1, 4, 1), (6, 6), 2)
