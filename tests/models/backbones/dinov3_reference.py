"""Independent plain re-statement of the official DINOv3 ViTs and of the hub's key mappings.

Written from ``facebookresearch/dinov3`` (``hub/backbones.py``,
``models/vision_transformer.py``, ``layers/``) and from the ``transformers``
conversion scripts (``convert_dino_to_pytorch.py``,
``convert_dinov2(_with_registers)_to_hf.py``, ``convert_dinov3_vit_to_hf.py``),
as plain functions over state dicts, sharing no code with mmuss.
"""
import math
import re
from typing import Dict, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

# name: (embed_dims, depth, heads, ffn, hidden width, qkv bias); patch 16, 4 storage tokens.
DINOV3 = {
    'dinov3-vit-s16': (384, 12, 6, 'mlp', 1536, True),
    'dinov3-vit-s16plus': (384, 12, 6, 'swiglu', 1536, True),
    'dinov3-vit-b16': (768, 12, 12, 'mlp', 3072, True),
    'dinov3-vit-l16': (1024, 24, 16, 'mlp', 4096, True),
    'dinov3-vit-h16plus': (1280, 32, 20, 'swiglu', 5120, True),
    'dinov3-vit-7b16': (4096, 40, 32, 'swiglu', 8192, False),
}
STORAGE, PATCH, EPS = 4, 16, 1e-5


def dinov3_key_shapes(name: str, depth: int = None,
                      local_cls_norm: bool = False) -> Dict[str, Tuple[int, ...]]:
    """Every key of the official DINOv3 state dict and its shape."""
    dims, full_depth, heads, ffn, hidden, qkv_bias = DINOV3[name]
    shapes = {
        'cls_token': (1, 1, dims), 'storage_tokens': (1, STORAGE, dims), 'mask_token': (1, dims),
        'patch_embed.proj.weight': (dims, 3, PATCH, PATCH), 'patch_embed.proj.bias': (dims, ),
        'rope_embed.periods': (dims // heads // 4, ),
        'norm.weight': (dims, ), 'norm.bias': (dims, ),
    }
    if local_cls_norm:
        shapes.update({'local_cls_norm.weight': (dims, ), 'local_cls_norm.bias': (dims, )})
    for i in range(full_depth if depth is None else depth):
        b = f'blocks.{i}.'
        shapes.update({
            b + 'norm1.weight': (dims, ), b + 'norm1.bias': (dims, ),
            b + 'attn.qkv.weight': (3 * dims, dims),
            b + 'attn.proj.weight': (dims, dims), b + 'attn.proj.bias': (dims, ),
            b + 'ls1.gamma': (dims, ), b + 'ls2.gamma': (dims, ),
            b + 'norm2.weight': (dims, ), b + 'norm2.bias': (dims, ),
        })
        if qkv_bias:
            shapes[b + 'attn.qkv.bias'] = (3 * dims, )
            shapes[b + 'attn.qkv.bias_mask'] = (3 * dims, )
        if ffn == 'swiglu':
            for w, shape in (('w1', (hidden, dims)), ('w2', (hidden, dims)),
                             ('w3', (dims, hidden))):
                shapes[f'{b}mlp.{w}.weight'] = shape
                shapes[f'{b}mlp.{w}.bias'] = (shape[0], )
        else:
            shapes.update({
                b + 'mlp.fc1.weight': (hidden, dims), b + 'mlp.fc1.bias': (hidden, ),
                b + 'mlp.fc2.weight': (dims, hidden), b + 'mlp.fc2.bias': (dims, ),
            })
    return shapes


def official_periods(head_dims: int, base: float = 100.0) -> Tensor:
    """``RopePositionEmbedding._init_weights`` with ``base``: ``base ** (2k / (d/2))`` in fp32."""
    return base**(2 * torch.arange(head_dims // 4, dtype=torch.float32) / (head_dims // 2))


def random_dinov3_state_dict(name: str, depth: int, seed: int = 0,
                             local_cls_norm: bool = False) -> Dict[str, Tensor]:
    """Random official-layout weights with O(1) activations; bias masks as the released ones."""
    gen = torch.Generator().manual_seed(seed)
    dims, _, heads, *_ = DINOV3[name]
    out = {}
    for key, shape in dinov3_key_shapes(name, depth, local_cls_norm).items():
        if key == 'rope_embed.periods':
            value = official_periods(dims // heads)
        elif key.endswith('bias_mask'):
            value = torch.ones(shape)
            value[shape[0] // 3:2 * shape[0] // 3] = 0
        elif key.endswith('gamma') or re.search(r'norm\d?\.weight$', key):
            value = 1 + 0.2 * torch.randn(shape, generator=gen)
        elif key.endswith('.weight'):
            value = torch.randn(shape, generator=gen) / math.sqrt(math.prod(shape[1:]))
        else:
            value = 0.5 * torch.randn(shape, generator=gen)
        out[key] = value
    return out


def rope_tables(h: int, w: int, periods: Tensor) -> Tuple[Tensor, Tensor]:
    """sin/cos (``hw×d``) of the patch centres, 'separate' normalisation, no augmentation."""
    ys = [2 * (i + 0.5) / h - 1 for i in range(h)]
    xs = [2 * (j + 0.5) / w - 1 for j in range(w)]
    coords = torch.tensor([[y, x] for y in ys for x in xs], dtype=torch.float32)  # hw×2
    per_axis = [2 * math.pi * coords[:, axis:axis + 1] / periods[None] for axis in (0, 1)]
    half = torch.cat(per_axis, dim=1)  # [θ_y(T_0..), θ_x(T_0..)]
    angles = torch.cat((half, half), dim=1)
    return angles.sin(), angles.cos()


def rotate(x: Tensor, sin: Tensor, cos: Tensor) -> Tensor:
    """Official ``rope_apply`` on the patch tokens (the leading 1 + 4 tokens untouched)."""
    first = 1 + STORAGE
    p = x[:, :, first:]
    half = p.shape[-1] // 2
    turned = torch.cat((-p[..., half:], p[..., :half]), dim=-1)
    return torch.cat((x[:, :, :first], p * cos + turned * sin), dim=2)


def official_dinov3_forward(sd: Dict[str, Tensor], x: Tensor, name: str) -> Dict[str, object]:
    """Per-block normed patch maps, last-block patch logits and rotated q/k/v, CLS (eval mode)."""
    dims, _, heads, ffn, _, _ = DINOV3[name]
    batch = x.shape[0]
    t = F.conv2d(x, sd['patch_embed.proj.weight'], sd['patch_embed.proj.bias'], stride=PATCH)
    gh, gw = t.shape[-2:]
    t = t.flatten(2).transpose(1, 2)
    t = torch.cat((sd['cls_token'].expand(batch, -1, -1),
                   sd['storage_tokens'].expand(batch, -1, -1), t), dim=1)
    sin, cos = rope_tables(gh, gw, sd['rope_embed.periods'])
    depth = len({k.split('.')[1] for k in sd if k.startswith('blocks.')})
    d = dims // heads
    maps = []
    for i in range(depth):
        b = f'blocks.{i}.'
        y = F.layer_norm(t, (dims, ), sd[b + 'norm1.weight'], sd[b + 'norm1.bias'], eps=EPS)
        bias = sd.get(b + 'attn.qkv.bias')
        if bias is not None:
            bias = bias * sd[b + 'attn.qkv.bias_mask']
        n = y.shape[1]
        qkv = F.linear(y, sd[b + 'attn.qkv.weight'], bias).reshape(batch, n, 3, heads, d)
        q, k, v = (qkv[:, :, j].transpose(1, 2) for j in range(3))
        q, k = rotate(q, sin, cos), rotate(k, sin, cos)
        logits = (q @ k.transpose(-2, -1)) / math.sqrt(d)
        y = (logits.softmax(-1) @ v).transpose(1, 2).reshape(batch, n, dims)
        y = F.linear(y, sd[b + 'attn.proj.weight'], sd[b + 'attn.proj.bias'])
        t = t + y * sd[b + 'ls1.gamma']
        y = F.layer_norm(t, (dims, ), sd[b + 'norm2.weight'], sd[b + 'norm2.bias'], eps=EPS)
        if ffn == 'swiglu':
            gate = F.silu(F.linear(y, sd[b + 'mlp.w1.weight'], sd[b + 'mlp.w1.bias']))
            y = gate * F.linear(y, sd[b + 'mlp.w2.weight'], sd[b + 'mlp.w2.bias'])
            y = F.linear(y, sd[b + 'mlp.w3.weight'], sd[b + 'mlp.w3.bias'])
        else:
            y = F.gelu(F.linear(y, sd[b + 'mlp.fc1.weight'], sd[b + 'mlp.fc1.bias']))
            y = F.linear(y, sd[b + 'mlp.fc2.weight'], sd[b + 'mlp.fc2.bias'])
        t = t + y * sd[b + 'ls2.gamma']
        normed = F.layer_norm(t, (dims, ), sd['norm.weight'], sd['norm.bias'], eps=EPS)
        maps.append(normed[:, 1 + STORAGE:].reshape(batch, gh, gw, dims).permute(0, 3, 1, 2))
    first = 1 + STORAGE
    return dict(maps=maps, attn=logits[:, :, first:, first:], cls=normed[:, 0],
                qkv=(q[:, :, first:], k[:, :, first:], v[:, :, first:]))


# transformers convert_dinov3_vit_to_hf.py: ORIGINAL_TO_CONVERTED_KEY_MAPPING, in its order.
DINOV3_TO_HF = [
    (r'cls_token', r'embeddings.cls_token'),
    (r'mask_token', r'embeddings.mask_token'),
    (r'storage_tokens', r'embeddings.register_tokens'),
    (r'patch_embed.proj', r'embeddings.patch_embeddings'),
    (r'periods', r'inv_freq'),
    (r'rope_embed', r'rope_embeddings'),
    (r'blocks.(\d+).attn.proj', r'layer.\1.attention.o_proj'),
    (r'blocks.(\d+).attn.', r'layer.\1.attention.'),
    (r'blocks.(\d+).ls(\d+).gamma', r'layer.\1.layer_scale\2.lambda1'),
    (r'blocks.(\d+).mlp.fc1', r'layer.\1.mlp.up_proj'),
    (r'blocks.(\d+).mlp.fc2', r'layer.\1.mlp.down_proj'),
    (r'blocks.(\d+).mlp', r'layer.\1.mlp'),
    (r'blocks.(\d+).norm', r'layer.\1.norm'),
    (r'w1', r'gate_proj'),
    (r'w2', r'up_proj'),
    (r'w3', r'down_proj'),
]


def to_hf_dinov3(sd: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """Hub conversion: split qkv, rename, drop bias masks, key bias, local CLS norm, periods."""
    sd = dict(sd)
    for key in [k for k in sd if 'qkv' in k]:
        q, k, v = sd.pop(key).chunk(3, dim=0)
        for part, value in (('q_proj', q), ('k_proj', k), ('v_proj', v)):
            sd[key.replace('qkv', part)] = value
    out = {}
    for key, value in sd.items():
        new = key
        for pattern, replacement in DINOV3_TO_HF:
            new = re.sub(pattern, replacement, new)
        if 'bias_mask' in key or 'attn.k_proj.bias' in key or 'local_cls_norm' in key:
            continue
        if 'embeddings.mask_token' in new:
            value = value.unsqueeze(1)
        if 'inv_freq' in new:
            continue
        out[new] = value.contiguous().clone()
    return out


def to_hf_encoder(sd: Dict[str, Tensor], family: str) -> Dict[str, Tensor]:
    """convert_dino_to_pytorch.py (base model) / convert_dinov2(_with_registers)_to_hf.py."""
    sd = dict(sd)
    dims = sd['cls_token'].shape[-1]
    depth = len({k.split('.')[1] for k in sd if k.startswith('blocks.')})
    renames = [('cls_token', 'embeddings.cls_token'),
               ('pos_embed', 'embeddings.position_embeddings'),
               ('patch_embed.proj.weight', 'embeddings.patch_embeddings.projection.weight'),
               ('patch_embed.proj.bias', 'embeddings.patch_embeddings.projection.bias'),
               ('norm.weight', 'layernorm.weight'), ('norm.bias', 'layernorm.bias')]
    if family == 'DINOv2':
        renames.append(('mask_token', 'embeddings.mask_token'))
        if 'register_tokens' in sd:
            renames.append(('register_tokens', 'embeddings.register_tokens'))
    for i in range(depth):
        src, dst = f'blocks.{i}.', f'encoder.layer.{i}.'
        pairs = [('attn.proj', 'attention.output.dense')]
        if family == 'DINO':
            pairs += [('norm1', 'layernorm_before'), ('norm2', 'layernorm_after'),
                      ('mlp.fc1', 'intermediate.dense'), ('mlp.fc2', 'output.dense')]
        else:
            pairs += [('norm1', 'norm1'), ('norm2', 'norm2')]
            ffn = ['w12', 'w3'] if f'{src}mlp.w12.weight' in sd else ['fc1', 'fc2']
            pairs += [(f'mlp.{f}', f'mlp.{f}') for f in ffn]
            renames += [(f'{src}ls1.gamma', f'{dst}layer_scale1.lambda1'),
                        (f'{src}ls2.gamma', f'{dst}layer_scale2.lambda1')]
        renames += [(f'{src}{a}.{p}', f'{dst}{b}.{p}') for a, b in pairs
                    for p in ('weight', 'bias')]
        for p in ('weight', 'bias'):
            qkv = sd.pop(f'{src}attn.qkv.{p}')
            for j, part in enumerate(('query', 'key', 'value')):
                sd[f'{dst}attention.attention.{part}.{p}'] = qkv[j * dims:(j + 1) * dims]
    for old, new in renames:
        sd[new] = sd.pop(old)
    out = {}
    for key, value in sd.items():
        key = key.replace('w12', 'weights_in').replace('w3', 'weights_out')
        out[key] = value.contiguous().clone()
    return out
