"""CAUSE-TR decoder at chosen patches: the full decoder's output and gradients gathered there."""
import pytest
import torch
import torch.nn as nn

from mmuss.models.decode_heads.cause import tr_decoder as cause_tr_decoder
from mmuss.models.decode_heads.cause.quantize import grid_order, grid_positions, grid_sample
from mmuss.models.decode_heads.cause.tr_decoder import CauseTRDecoder, absorbed_attention


def decoder_and_maps(batch, height, width, num_heads=1, seed=0):
    torch.manual_seed(seed)
    decoder = CauseTRDecoder(8, 5, height * width, hidden_dims=16,
                             num_heads=num_heads).double().eval()
    queries = torch.randn(batch, 8, height, width, dtype=torch.double)
    memory = torch.randn(batch, 8, height, width, dtype=torch.double)
    return decoder, queries, memory


@pytest.mark.parametrize('batch,height,width,stride,num_heads', [
    (3, 7, 9, 2, 1), (2, 9, 7, 3, 2), (1, 4, 4, 4, 1), (2, 5, 6, 1, 1)])
def test_grid_positions_give_the_grid_sample_of_the_full_code(batch, height, width, stride,
                                                              num_heads):
    decoder, queries, memory = decoder_and_maps(batch, height, width, num_heads)
    drop = nn.Dropout(0.1).eval()
    with torch.no_grad():
        full = decoder(queries, memory, drop)
        for seed in range(3):
            order = grid_order(batch, height, width, stride, torch.Generator().manual_seed(seed))
            sampled = decoder(queries, memory, drop, grid_positions(order, width, stride))
            expected = grid_sample(full, order, stride)
            assert sampled.shape == (batch, 5, height // stride, width // stride)
            assert torch.allclose(sampled, expected, atol=1e-12)


def test_arbitrary_positions_give_the_full_code_at_those_patches():
    decoder, queries, memory = decoder_and_maps(2, 5, 3)
    positions = torch.tensor([[[14, 0, 7]], [[3, 3, 11]]])  # B×1×3, repeats allowed
    with torch.no_grad():
        full = decoder(queries, memory, nn.Identity()).flatten(2)  # B×D×15
        sampled = decoder(queries, memory, nn.Identity(), positions)
    assert sampled.shape == (2, 5, 1, 3)
    for b in range(2):
        for j, p in enumerate(positions[b, 0].tolist()):
            assert torch.allclose(sampled[b, :, 0, j], full[b, :, p], atol=1e-12)


def test_gradients_at_grid_positions_equal_those_of_the_gathered_full_code():
    batch, height, width, stride = 2, 7, 9, 3
    decoder, queries, memory = decoder_and_maps(batch, height, width, num_heads=2)
    queries.requires_grad_(True)
    memory.requires_grad_(True)
    order = grid_order(batch, height, width, stride, torch.Generator().manual_seed(5))
    weights = torch.randn(batch, 5, height // stride, width // stride, dtype=torch.double)
    inputs = [queries, memory, *decoder.parameters()]

    def grads(code):
        return torch.autograd.grad((code * weights).sum(), inputs)

    expected = grads(grid_sample(decoder(queries, memory, nn.Identity()), order, stride))
    got = grads(decoder(queries, memory, nn.Identity(), grid_positions(order, width, stride)))
    names = ['queries', 'memory', *(n for n, _ in decoder.named_parameters())]
    for name, g, e in zip(names, got, expected):
        assert torch.allclose(g, e, atol=1e-10), name
    # every positional embedding row is a key, so all of them receive gradient
    assert (got[names.index('query_pos')].abs().sum(1) > 0).all()


def test_positions_of_the_wrong_shape_are_refused():
    decoder, queries, memory = decoder_and_maps(2, 4, 4)
    with pytest.raises(ValueError, match=r'positions must be B×h.×w. = 2×.*got shape \(2, 4\)'):
        decoder(queries, memory, nn.Identity(), torch.zeros(2, 4, dtype=torch.long))


def attention_and_inputs(num_heads, n=5, length=7, seed=0):
    torch.manual_seed(seed)
    attn = nn.MultiheadAttention(8, num_heads, dropout=0.25, batch_first=True).double()
    with torch.no_grad():
        attn.in_proj_bias.normal_()  # torch initialises the biases to 0
        attn.out_proj.bias.normal_()
    query = torch.randn(2, n, 8, dtype=torch.double)
    keys = (torch.randn(2, length, 8, dtype=torch.double),
            torch.randn(length, 8, dtype=torch.double))  # a batch-shared summand, as query_pos
    value = torch.randn(2, length, 8, dtype=torch.double)
    return attn, query, keys, value


def channels_first(tensors):
    """``B×N×C`` / ``N×C`` inputs in the ``B×C×N`` / ``C×N`` layout absorbed_attention reads."""
    return [t.transpose(-1, -2) for t in tensors]


@pytest.mark.parametrize('num_heads,block', [(1, 512), (2, 2)])
def test_absorbed_attention_equals_torch_multihead_attention(num_heads, block):
    attn, query, keys, value = attention_and_inputs(num_heads)
    attn.eval()
    inputs = [t.clone().requires_grad_(True) for t in (query, *keys, value)]
    mine = absorbed_attention(attn, inputs[0], channels_first(inputs[1:3]),
                              channels_first(inputs[3:])[0], block=block)
    weights = torch.randn_like(mine)
    grads_mine = torch.autograd.grad((mine * weights).sum(), [*inputs, *attn.parameters()])
    torch_out = attn(inputs[0], inputs[1] + inputs[2], inputs[3], need_weights=False)[0]
    grads_torch = torch.autograd.grad((torch_out * weights).sum(),
                                      [*inputs, *attn.parameters()])
    assert torch.allclose(mine, torch_out, atol=1e-10)
    for got, want in zip(grads_mine, grads_torch):
        assert torch.allclose(got, want, atol=1e-10)


def test_absorbed_attention_keeps_the_value_bias_under_attention_dropout(monkeypatch):
    attn, query, keys, value = attention_and_inputs(2)
    attn.train()
    gen = torch.Generator().manual_seed(1)
    masks = []

    def fixed_dropout(x, p, training):
        mask = (torch.rand(x.shape, generator=gen) > p).double()
        masks.append(mask)
        return x * mask / (1 - p)

    monkeypatch.setattr(cause_tr_decoder.F, 'dropout', fixed_dropout)
    with torch.no_grad():
        mine = absorbed_attention(attn, query, channels_first(keys), channels_first([value])[0])
        # the definition: project, split heads, drop the softmax weights, weight the values
        w_q, w_k, w_v = attn.in_proj_weight.chunk(3)
        b_q, b_k, b_v = attn.in_proj_bias.chunk(3)

        def heads(x):
            return x.unflatten(-1, (2, 4)).transpose(1, 2)

        q = heads(query @ w_q.T + b_q)
        k = heads((keys[0] + keys[1]) @ w_k.T + b_k)
        v = heads(value @ w_v.T + b_v)
        alpha = (q @ k.transpose(-1, -2) / 2.0).softmax(-1) * masks[0] / 0.75
        expected = attn.out_proj((alpha @ v).transpose(1, 2).flatten(2))
    assert masks[0].shape == (2, 2, 5, 7) and (masks[0] == 0).any()
    assert torch.allclose(mine, expected, atol=1e-10)
