"""Independent plain re-statement of the official DINO / DINOv2 models, for the tests.

Written from the official descriptions (``facebookresearch/dino``
``vision_transformer.py``; ``facebookresearch/dinov2`` hub models), as plain
functions over a state dict, sharing no code with mmuss.
"""
import math
from typing import Dict, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

# name: (family, embed_dims, depth, heads, patch, registers, ffn)
OFFICIAL = {
    'dino-vit-s16': ('DINO', 384, 12, 6, 16, 0, 'mlp'),
    'dino-vit-s8': ('DINO', 384, 12, 6, 8, 0, 'mlp'),
    'dino-vit-b16': ('DINO', 768, 12, 12, 16, 0, 'mlp'),
    'dino-vit-b8': ('DINO', 768, 12, 12, 8, 0, 'mlp'),
    'dinov2-vit-s14': ('DINOv2', 384, 12, 6, 14, 0, 'mlp'),
    'dinov2-vit-b14': ('DINOv2', 768, 12, 12, 14, 0, 'mlp'),
    'dinov2-vit-l14': ('DINOv2', 1024, 24, 16, 14, 0, 'mlp'),
    'dinov2-vit-g14': ('DINOv2', 1536, 40, 24, 14, 0, 'swiglu'),
    'dinov2-vit-s14-reg4': ('DINOv2', 384, 12, 6, 14, 4, 'mlp'),
    'dinov2-vit-b14-reg4': ('DINOv2', 768, 12, 12, 14, 4, 'mlp'),
    'dinov2-vit-l14-reg4': ('DINOv2', 1024, 24, 16, 14, 4, 'mlp'),
    'dinov2-vit-g14-reg4': ('DINOv2', 1536, 40, 24, 14, 4, 'swiglu'),
}
PRETRAIN_SIZE = {'DINO': 224, 'DINOv2': 518}
SWIGLU_HIDDEN = {1536: 4096}  # giant: 4·1536 = 6144 → ⅔ → 4096


def official_key_shapes(name: str, depth: int = None) -> Dict[str, Tuple[int, ...]]:
    """Every key of the official state dict and its shape (``depth`` overrides the block count)."""
    family, dims, full_depth, _, patch, regs, ffn = OFFICIAL[name]
    grid = PRETRAIN_SIZE[family] // patch
    shapes = {
        'cls_token': (1, 1, dims),
        'pos_embed': (1, 1 + grid * grid, dims),
        'patch_embed.proj.weight': (dims, 3, patch, patch),
        'patch_embed.proj.bias': (dims, ),
        'norm.weight': (dims, ),
        'norm.bias': (dims, ),
    }
    if family == 'DINOv2':
        shapes['mask_token'] = (1, dims)
    if regs:
        shapes['register_tokens'] = (1, regs, dims)
    for i in range(full_depth if depth is None else depth):
        b = f'blocks.{i}.'
        shapes.update({
            b + 'norm1.weight': (dims, ), b + 'norm1.bias': (dims, ),
            b + 'attn.qkv.weight': (3 * dims, dims), b + 'attn.qkv.bias': (3 * dims, ),
            b + 'attn.proj.weight': (dims, dims), b + 'attn.proj.bias': (dims, ),
            b + 'norm2.weight': (dims, ), b + 'norm2.bias': (dims, ),
        })
        if ffn == 'swiglu':
            hidden = SWIGLU_HIDDEN[dims]
            shapes.update({
                b + 'mlp.w12.weight': (2 * hidden, dims), b + 'mlp.w12.bias': (2 * hidden, ),
                b + 'mlp.w3.weight': (dims, hidden), b + 'mlp.w3.bias': (dims, ),
            })
        else:
            shapes.update({
                b + 'mlp.fc1.weight': (4 * dims, dims), b + 'mlp.fc1.bias': (4 * dims, ),
                b + 'mlp.fc2.weight': (dims, 4 * dims), b + 'mlp.fc2.bias': (dims, ),
            })
        if family == 'DINOv2':
            shapes[b + 'ls1.gamma'] = (dims, )
            shapes[b + 'ls2.gamma'] = (dims, )
    return shapes


def random_official_state_dict(name: str, depth: int, seed: int = 0) -> Dict[str, Tensor]:
    """Random weights in the official layout, scaled so activations and logits are O(1)."""
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for key, shape in official_key_shapes(name, depth).items():
        if key.endswith('norm1.weight') or key.endswith('norm2.weight') or key == 'norm.weight' \
                or key.endswith('gamma'):
            value = 1 + 0.2 * torch.randn(shape, generator=gen)
        elif key.endswith('.weight'):
            fan_in = math.prod(shape[1:])
            value = torch.randn(shape, generator=gen) / math.sqrt(fan_in)
        else:
            value = 0.5 * torch.randn(shape, generator=gen)
        out[key] = value
    return out


def official_pos_embed(pos_embed: Tensor, height: int, width: int, patch: int,
                       offset: float, antialias: bool) -> Tensor:
    """DINO's / DINOv2's ``interpolate_pos_encoding`` for an ``height×width`` image."""
    n = pos_embed.shape[1] - 1
    h0, w0 = height // patch, width // patch
    if h0 * w0 == n and height == width:
        return pos_embed
    m = int(math.sqrt(n))
    dim = pos_embed.shape[-1]
    src = pos_embed[:, 1:].reshape(1, m, m, dim).permute(0, 3, 1, 2)
    if offset:
        out = F.interpolate(src, scale_factor=((h0 + offset) / math.sqrt(n),
                                               (w0 + offset) / math.sqrt(n)),
                            mode='bicubic', antialias=antialias)
    else:
        out = F.interpolate(src, size=(h0, w0), mode='bicubic', antialias=antialias)
    assert out.shape[-2:] == (h0, w0)
    return torch.cat((pos_embed[:, :1], out.permute(0, 2, 3, 1).reshape(1, h0 * w0, dim)), 1)


def hub_interpolation(name: str) -> Tuple[float, bool]:
    """(offset, antialias) of the official model: registers models resize by size + antialias."""
    family, *_, regs, _ = OFFICIAL[name]
    if family == 'DINOv2' and regs:
        return 0.0, True
    return 0.1, False


def official_forward(sd: Dict[str, Tensor], x: Tensor, name: str) -> Dict[str, object]:
    """The official forward pass: per-block normed patch maps, last attention logits, q/k/v, CLS."""
    family, dims, _, heads, patch, regs, ffn = OFFICIAL[name]
    offset, antialias = hub_interpolation(name)
    batch, _, height, width = x.shape
    t = F.conv2d(x, sd['patch_embed.proj.weight'], sd['patch_embed.proj.bias'], stride=patch)
    gh, gw = t.shape[-2:]
    t = t.flatten(2).transpose(1, 2)
    t = torch.cat((sd['cls_token'].expand(batch, -1, -1), t), dim=1)
    t = t + official_pos_embed(sd['pos_embed'], height, width, patch, offset, antialias)
    if regs:
        t = torch.cat((t[:, :1], sd['register_tokens'].expand(batch, -1, -1), t[:, 1:]), dim=1)
    depth = len({k.split('.')[1] for k in sd if k.startswith('blocks.')})
    head_dim = dims // heads
    maps = []
    for i in range(depth):
        b = f'blocks.{i}.'
        y = F.layer_norm(t, (dims, ), sd[b + 'norm1.weight'], sd[b + 'norm1.bias'], eps=1e-6)
        n = y.shape[1]
        qkv = F.linear(y, sd[b + 'attn.qkv.weight'], sd[b + 'attn.qkv.bias'])
        qkv = qkv.reshape(batch, n, 3, heads, head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        logits = (q @ k.transpose(-2, -1)) * head_dim**-0.5
        y = (logits.softmax(dim=-1) @ v).transpose(1, 2).reshape(batch, n, dims)
        y = F.linear(y, sd[b + 'attn.proj.weight'], sd[b + 'attn.proj.bias'])
        if family == 'DINOv2':
            y = y * sd[b + 'ls1.gamma']
        t = t + y
        y = F.layer_norm(t, (dims, ), sd[b + 'norm2.weight'], sd[b + 'norm2.bias'], eps=1e-6)
        if ffn == 'swiglu':
            a, g = F.linear(y, sd[b + 'mlp.w12.weight'], sd[b + 'mlp.w12.bias']).chunk(2, dim=-1)
            y = F.linear(F.silu(a) * g, sd[b + 'mlp.w3.weight'], sd[b + 'mlp.w3.bias'])
        else:
            y = F.gelu(F.linear(y, sd[b + 'mlp.fc1.weight'], sd[b + 'mlp.fc1.bias']))
            y = F.linear(y, sd[b + 'mlp.fc2.weight'], sd[b + 'mlp.fc2.bias'])
        if family == 'DINOv2':
            y = y * sd[b + 'ls2.gamma']
        t = t + y
        normed = F.layer_norm(t, (dims, ), sd['norm.weight'], sd['norm.bias'], eps=1e-6)
        maps.append(normed[:, 1 + regs:].reshape(batch, gh, gw, dims).permute(0, 3, 1, 2))
    first = 1 + regs
    return dict(maps=maps, attn=logits[:, :, first:, first:], cls=normed[:, 0],
                qkv=(q[:, :, first:], k[:, :, first:], v[:, :, first:]))


def to_timm_layout(sd: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """Official → timm ViT layout (timm's DINOv2 conversion: registers, packed SwiGLU, no mask)."""
    out = {k: v.clone() for k, v in sd.items() if k != 'mask_token'}
    if 'register_tokens' in out:
        out['reg_token'] = out.pop('register_tokens')
        out['cls_token'] = out['cls_token'] + out['pos_embed'][:, :1]
        out['pos_embed'] = out['pos_embed'][:, 1:]
    for key in list(out):
        if '.mlp.w12.' in key:
            out[key.replace('w12', 'fc1')] = out.pop(key)
        elif '.mlp.w3.' in key:
            out[key.replace('w3', 'fc2')] = out.pop(key)
    return out
