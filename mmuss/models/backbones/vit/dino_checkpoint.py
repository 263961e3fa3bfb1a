"""Reading DINO / DINOv2 / DINOv3 checkpoints into the official (= mmuss) key layout, strictly.

Accepted inputs (``.pth`` path or URL, read with mmengine's ``CheckpointLoader``;
``.safetensors`` files and Hugging Face model folders read locally):

- DINO v1 ``*_pretrain.pth`` and DINOv2 hub ``*_pretrain.pth``: plain backbone
  state dicts in the official layout;
- DINO full training checkpoints: ``teacher`` / ``student`` dicts with
  ``module.`` / ``backbone.`` prefixes (the teacher by default); the
  projection-head keys (everything outside ``backbone.``) are dropped;
- DINOv2 training checkpoints: ``model`` with ``teacher.`` / ``student.``
  prefixes, or ``teacher`` dicts, with ``block_chunks`` (``blocks.c.i.``);
- timm ViT state dicts (``reg_token``, class-free ``pos_embed`` of the register
  models, packed SwiGLU ``mlp.fc1``/``mlp.fc2``, no ``mask_token``);
- DINOv3 hub ``*_pretrain_*.pth`` (``storage_tokens``, ``rope_embed.periods``,
  ``attn.qkv.bias_mask``; the training-only ``local_cls_norm`` is dropped)
  and DINOv3 training checkpoints (``teacher``/``model`` with ``backbone.``);
- ``transformers`` 4.5x / 5.x layouts (a hub folder with ``config.json`` and
  ``model.safetensors``, a sharded ``model.safetensors.index.json`` or
  ``pytorch_model.bin``; or one ``.safetensors`` / ``.bin`` / ``.pth`` file of a
  ``state_dict()``): ``ViTModel`` (DINO), ``Dinov2Model`` and
  ``Dinov2WithRegistersModel`` (DINOv2), ``DINOv3ViTModel`` (DINOv3); a 5.x
  ``state_dict()`` of ``ViTModel`` (``layers.N`` with ``q/k/v/o_proj``) and of
  ``DINOv3ViTModel`` (``model.layer.N``) differs from the hub layout that 4.5x and
  ``save_pretrained`` write; bare or under the task models' prefix (``vit.``,
  ``dinov2.``, ``dinov2_with_registers.``, ``dinov3_vit.``) or a ``model.``
  wrapper, mapped back with the inverse of the hub conversion scripts' key mapping;
- mmuss format (what ``tools/model_converters`` write): ``{'state_dict': ...,
  'meta': ...}`` with the official keys, optionally under ``backbone.``.

After normalisation the checkpoint's variant (family, width, depth, patch,
registers, FFN, pos-embed grid) is compared with the backbone's, then every
key and shape, and anything that differs is an error - never a partial load.
"""
import argparse
import contextlib
import json
import math
import os.path as osp
import re
from dataclasses import dataclass
from typing import Dict, Mapping, Optional, Tuple

import torch
from torch import Tensor, nn

from .rope import rope_periods

SIZE_NAMES = {192: 'Ti', 384: 'S', 768: 'B', 1024: 'L', 1280: 'H', 1536: 'g', 4096: '7B'}
CHUNKED_BLOCK = re.compile(r'^blocks\.\d+\.(\d+)\.')
BLOCK_INDEX = re.compile(r'^blocks\.(\d+)\.')
DINOV2_MARKERS = ('mask_token', 'register_tokens', '.ls1.gamma', '.mlp.w12.')
DINOV3_TRAINING_ONLY = ('local_cls_norm.', )
OFFICIAL_REQUIRED = ('patch_embed.proj.weight', 'cls_token')
HF_WEIGHT_FILES = ('model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin')


@dataclass(frozen=True)
class DinoVariant:
    """What identifies a DINO-family ViT's weights.

    Attributes:
        family: ``'DINO'`` (v1), ``'DINOv2'`` or ``'DINOv3'``.
        embed_dims: Token width.
        num_layers: Number of blocks.
        patch_size: Patch side.
        num_register_tokens: Register (DINOv3: storage) tokens.
        ffn_type: ``'mlp'`` or ``'swiglu'``.
        pos_grid: Side of the pretraining position-embedding grid (0: RoPE, DINOv3).
    """

    family: str
    embed_dims: int
    num_layers: int
    patch_size: int
    num_register_tokens: int
    ffn_type: str
    pos_grid: int

    @property
    def name(self) -> str:
        """E.g. ``'DINOv2 ViT-S/14 with 4 registers'``, ``'DINOv3 ViT-S+/16 with 4 registers'``."""
        size = SIZE_NAMES.get(self.embed_dims, f'{self.embed_dims}d')
        if self.family == 'DINOv3' and self.ffn_type == 'swiglu' and self.embed_dims < 4096:
            size += '+'
        regs = f' with {self.num_register_tokens} registers' if self.num_register_tokens else ''
        return f'{self.family} ViT-{size}/{self.patch_size}{regs}'

    def describe(self) -> str:
        """The name plus every field, for error messages."""
        return (f'{self.name} (embed_dims={self.embed_dims}, num_layers={self.num_layers}, '
                f'patch_size={self.patch_size}, num_register_tokens={self.num_register_tokens}, '
                f'ffn={self.ffn_type}, {self.position_encoding})')

    @property
    def position_encoding(self) -> str:
        """``'pos-embed grid MxM'`` or ``'RoPE'``."""
        return f'pos-embed grid {self.pos_grid}x{self.pos_grid}' if self.pos_grid else 'RoPE'


def family_of(state_dict: Mapping[str, Tensor]) -> str:
    """``'DINOv3'`` (no learned ``pos_embed``), ``'DINOv2'`` (:func:`is_dinov2`) or ``'DINO'``."""
    if 'pos_embed' not in state_dict:
        return 'DINOv3'
    return 'DINOv2' if is_dinov2(state_dict) else 'DINO'


def is_dinov2(state_dict: Mapping[str, Tensor]) -> bool:
    """DINOv2 weights have a mask token, LayerScale, registers or SwiGLU; DINO v1 none."""
    return any(mark in key for key in state_dict for mark in DINOV2_MARKERS)


def variant_of_state_dict(state_dict: Mapping[str, Tensor],
                          source: str = 'checkpoint') -> DinoVariant:
    """Infer the :class:`DinoVariant` of an official-layout state dict from its keys and shapes."""
    for key in OFFICIAL_REQUIRED:
        if key not in state_dict:
            raise KeyError(f'{source} has no {key!r}: it is not a DINO/DINOv2 ViT state dict '
                           f'(nor DINOv3; first keys: {sorted(state_dict)[:8]}).')
    family = family_of(state_dict)
    proj = state_dict['patch_embed.proj.weight']
    blocks = {int(m.group(1)) for m in map(BLOCK_INDEX.match, state_dict) if m}
    regs = state_dict.get('storage_tokens' if family == 'DINOv3' else 'register_tokens')
    swiglu = any('.mlp.w12.' in key or '.mlp.w1.' in key for key in state_dict)
    return DinoVariant(
        family=family,
        embed_dims=proj.shape[0],
        num_layers=max(blocks) + 1 if blocks else 0,
        patch_size=proj.shape[-1],
        num_register_tokens=regs.shape[1] if regs is not None else 0,
        ffn_type='swiglu' if swiglu else 'mlp',
        pos_grid=0 if family == 'DINOv3' else math.isqrt(state_dict['pos_embed'].shape[1] - 1))


def read_checkpoint(filename: str) -> dict:
    """Read a checkpoint file or URL on the CPU with mmengine's ``CheckpointLoader``.

    torch's safe ``weights_only`` loader stays on; only ``argparse.Namespace``
    (the ``args`` entry of DINO's full checkpoints) is allowed in addition.
    """
    from mmengine.runner import CheckpointLoader
    safe_globals = getattr(torch.serialization, 'safe_globals', None)
    allow = safe_globals([argparse.Namespace]) if safe_globals else contextlib.nullcontext()
    try:
        with allow:
            checkpoint = CheckpointLoader.load_checkpoint(filename, map_location='cpu')
    except FileNotFoundError:
        raise
    except Exception as err:
        raise RuntimeError(f'Could not read the DINO checkpoint {filename!r}: {err}') from err
    if not isinstance(checkpoint, Mapping):
        raise TypeError(f'{filename!r} holds a {type(checkpoint).__name__}, not a state dict.')
    return dict(checkpoint)


def read_safetensors(path: str) -> Dict[str, Tensor]:
    """All tensors of a ``.safetensors`` file, on the CPU."""
    try:
        from safetensors.torch import load_file
    except ImportError as err:
        raise ImportError(f'Reading {path!r} needs the safetensors package '
                          '(pip install safetensors).') from err
    if not osp.isfile(path):
        raise FileNotFoundError(f'No such checkpoint file: {path!r}')
    return load_file(path, device='cpu')


def read_hf_weights(folder: str) -> Dict[str, Tensor]:
    """The weights of a ``transformers`` model folder (the first of :data:`HF_WEIGHT_FILES`)."""
    for name in HF_WEIGHT_FILES:
        path = osp.join(folder, name)
        if not osp.isfile(path):
            continue
        if name.endswith('.index.json'):
            with open(path) as f:
                shards = sorted(set(json.load(f)['weight_map'].values()))
            state = {}
            for shard in shards:
                state.update(read_safetensors(osp.join(folder, shard)))
            return state
        if name.endswith('.safetensors'):
            return read_safetensors(path)
        return dict(torch.load(path, map_location='cpu', weights_only=True))
    raise FileNotFoundError(f'{folder!r} holds none of {list(HF_WEIGHT_FILES)}: it is not a '
                            'Hugging Face model folder.')


def read_hf_config(folder: str) -> Optional[dict]:
    """``config.json`` of a ``transformers`` model folder, if there is one."""
    path = osp.join(folder, 'config.json')
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def read_any_checkpoint(filename: str) -> Tuple[dict, Optional[dict]]:
    """A checkpoint container and, for Hugging Face files, their ``config.json`` (else ``None``).

    A folder is read as a ``transformers`` model folder; a ``.safetensors``
    file, or a local ``.bin`` (``pytorch_model.bin``), with the
    ``config.json`` beside it (if any); anything else (``.pth`` path or URL)
    with :func:`read_checkpoint`.
    """
    if osp.isdir(filename):
        return read_hf_weights(filename), read_hf_config(filename)
    beside = read_hf_config(osp.dirname(osp.abspath(filename))) if osp.isfile(filename) else None
    if filename.endswith('.safetensors'):
        return read_safetensors(filename), beside
    return read_checkpoint(filename), beside if filename.endswith('.bin') else None


#: Prefixes transformers' task models put before the base model (``base_model_prefix``),
#: and ``model.`` of a user wrapper; any chain of them is accepted.
HF_WRAPPER_PREFIXES = ('vit.', 'dinov2.', 'dinov2_with_registers.', 'dinov3_vit.', 'model.')
#: Every transformers DINO-family base model has this key; what precedes it is the prefix.
HF_MARKER = 'embeddings.cls_token'
HF_HEAD_PREFIXES = ('pooler.', 'classifier.')
#: transformers 5 modules whose ``state_dict()`` differs from the hub layout (which their
#: ``save_pretrained`` writes): ``DINOv3ViTModel`` nests its layers in an encoder named
#: ``model``; ``ViTModel`` has ``layers.N`` with ``q/k/v/o_proj`` and ``mlp.fc1/fc2``. Mapped
#: to the hub layout first (as seen from transformers 5.17's modules).
HF5_TO_HUB = (
    (r'^model\.layer\.', 'layer.'),
    *((rf'^layers\.(\d+)\.attention\.{ours}_proj\.', rf'encoder.layer.\1.attention.{hub}.')
      for ours, hub in (('q', 'attention.query'), ('k', 'attention.key'),
                        ('v', 'attention.value'), ('o', 'output.dense'))),
    (r'^layers\.(\d+)\.', r'encoder.layer.\1.'),
)
ACCEPTED_LAYOUTS = (
    'official DINO / DINOv2 / DINOv3 state dicts (cls_token, patch_embed.proj.weight, '
    'blocks.N.*), bare or under state_dict / teacher / student / model, with module. / '
    'teacher. / student. / backbone. prefixes; DINOv2 chunked blocks (blocks.C.N.*)',
    'timm ViT state dicts (reg_token, packed SwiGLU mlp.fc1 / mlp.fc2)',
    'transformers ViTModel / Dinov2Model / Dinov2WithRegistersModel (embeddings.cls_token, '
    'encoder.layer.N.* or 5.x ViTModel layers.N.*, layernorm.*), bare or under vit. / '
    'dinov2. / dinov2_with_registers. / model.',
    'transformers DINOv3ViTModel (embeddings.cls_token, layer.N.* or 5.x model.layer.N.*, '
    'norm.*), bare or under dinov3_vit. / model.',
    "mmuss format {'state_dict': <official keys>, 'meta': ...}",
)
# Inverse of transformers' convert_dino_to_pytorch.py / convert_dinov2(_with_registers)_to_hf.py.
HF_ENCODER_RENAMES = (
    (r'^embeddings\.cls_token$', 'cls_token'),
    (r'^embeddings\.mask_token$', 'mask_token'),
    (r'^embeddings\.register_tokens$', 'register_tokens'),
    (r'^embeddings\.position_embeddings$', 'pos_embed'),
    (r'^embeddings\.patch_embeddings\.projection\.', 'patch_embed.proj.'),
    (r'^layernorm\.', 'norm.'),
    (r'^encoder\.layer\.(\d+)\.(layernorm_before|norm1)\.', r'blocks.\1.norm1.'),
    (r'^encoder\.layer\.(\d+)\.(layernorm_after|norm2)\.', r'blocks.\1.norm2.'),
    (r'^encoder\.layer\.(\d+)\.attention\.output\.dense\.', r'blocks.\1.attn.proj.'),
    (r'^encoder\.layer\.(\d+)\.(intermediate\.dense|mlp\.fc1)\.', r'blocks.\1.mlp.fc1.'),
    (r'^encoder\.layer\.(\d+)\.(output\.dense|mlp\.fc2)\.', r'blocks.\1.mlp.fc2.'),
    (r'^encoder\.layer\.(\d+)\.mlp\.weights_in\.', r'blocks.\1.mlp.w12.'),
    (r'^encoder\.layer\.(\d+)\.mlp\.weights_out\.', r'blocks.\1.mlp.w3.'),
    (r'^encoder\.layer\.(\d+)\.layer_scale([12])\.lambda1$', r'blocks.\1.ls\2.gamma'),
)
HF_ENCODER_QKV = re.compile(
    r'^encoder\.layer\.(\d+)\.attention\.attention\.(query|key|value)\.(weight|bias)$')
# Inverse of transformers' convert_dinov3_vit_to_hf.py.
HF_DINOV3_RENAMES = (
    (r'^embeddings\.cls_token$', 'cls_token'),
    (r'^embeddings\.mask_token$', 'mask_token'),
    (r'^embeddings\.register_tokens$', 'storage_tokens'),
    (r'^embeddings\.patch_embeddings\.', 'patch_embed.proj.'),
    (r'^layer\.(\d+)\.norm([12])\.', r'blocks.\1.norm\2.'),
    (r'^layer\.(\d+)\.attention\.o_proj\.', r'blocks.\1.attn.proj.'),
    (r'^layer\.(\d+)\.layer_scale([12])\.lambda1$', r'blocks.\1.ls\2.gamma'),
)
HF_DINOV3_MLP = {True: (('gate_proj', 'w1'), ('up_proj', 'w2'), ('down_proj', 'w3')),
                 False: (('up_proj', 'fc1'), ('down_proj', 'fc2'))}
HF_DINOV3_QKV = re.compile(r'^layer\.(\d+)\.attention\.(q_proj|k_proj|v_proj)\.(weight|bias)$')


def hf_layout(state_dict: Mapping[str, Tensor]) -> Optional[str]:
    """``'encoder'`` (``ViTModel``, ``Dinov2Model``), ``'dinov3'`` (``DINOv3ViTModel``) or None."""
    if any(key.startswith('encoder.layer.') for key in state_dict):
        return 'encoder'
    if any(key.startswith('layer.') for key in state_dict) or \
            'embeddings.patch_embeddings.weight' in state_dict:
        return 'dinov3'
    return None


def rename_keys(state_dict: Mapping[str, Tensor], renames) -> Dict[str, Tensor]:
    """Apply the first matching ``(regex, replacement)`` to every key; others stay as they are."""
    out = {}
    for key, value in state_dict.items():
        for pattern, replacement in renames:
            new, count = re.subn(pattern, replacement, key, count=1)
            if count:
                key = new
                break
        out[key] = value
    return out


def merge_qkv(state_dict: Mapping[str, Tensor], pattern: 're.Pattern', names: Tuple[str, ...],
              source: str) -> Dict[str, Tensor]:
    """Concatenate per-block query/key/value tensors (``names`` in order) into ``attn.qkv``.

    A missing key bias (DINOv3 stores none) becomes zeros; any other missing
    part is an error.
    """
    out, groups = {}, {}
    for key, value in state_dict.items():
        match = pattern.match(key)
        if match:
            groups.setdefault((int(match.group(1)), match.group(3)), {})[match.group(2)] = value
        else:
            out[key] = value
    for (block, param), parts in sorted(groups.items()):
        if param == 'bias' and names[1] not in parts and names[0] in parts:
            parts[names[1]] = torch.zeros_like(parts[names[0]])
        missing = [name for name in names if name not in parts]
        if missing:
            raise KeyError(f'{source}: layer {block} has no attention {missing} {param}.')
        out[f'blocks.{block}.attn.qkv.{param}'] = torch.cat([parts[name] for name in names])
    return out


def hf_encoder_to_official(state_dict: Mapping[str, Tensor], source: str) -> Dict[str, Tensor]:
    """``ViTModel`` (DINO) / ``Dinov2Model`` / ``Dinov2WithRegistersModel`` keys → official keys.

    A ``ViTModel``'s optional ``mask_token`` (``use_mask_token``, masked-image
    modelling) is dropped: DINO v1 has none.
    """
    state = merge_qkv(state_dict, HF_ENCODER_QKV, ('query', 'key', 'value'), source)
    if any('.layernorm_before.' in key for key in state):
        state.pop('embeddings.mask_token', None)
    return rename_keys(state, HF_ENCODER_RENAMES)


def hf_dinov3_to_official(state_dict: Mapping[str, Tensor], hf_config: Optional[dict],
                          source: str) -> Dict[str, Tensor]:
    """``DINOv3ViTModel`` keys → official DINOv3 keys.

    Restores what the hub conversion dropped: the zero key bias and the
    ``bias_mask`` (1 on q and v, 0 on k), ``mask_token`` as ``1×C``, and
    ``rope_embed.periods`` from ``config.json``'s ``rope_theta`` and head
    width (without a config they are left out and taken from the backbone).
    """
    gated = any('.mlp.gate_proj.' in key for key in state_dict)
    renames = HF_DINOV3_RENAMES + tuple(
        (rf'^layer\.(\d+)\.mlp\.{hf}\.', rf'blocks.\1.mlp.{ours}.') for hf, ours in
        HF_DINOV3_MLP[gated])
    state = rename_keys(merge_qkv(state_dict, HF_DINOV3_QKV, ('q_proj', 'k_proj', 'v_proj'),
                                  source), renames)
    for key in [k for k in state if k.endswith('.attn.qkv.bias')]:
        mask = torch.ones_like(state[key])
        third = mask.shape[0] // 3
        mask[third:2 * third] = 0
        state[key + '_mask'] = mask
    if 'mask_token' in state:
        state['mask_token'] = state['mask_token'].reshape(1, -1)
    if 'storage_tokens' in state and not state['storage_tokens'].numel():
        del state['storage_tokens']  # transformers keeps a 1×0×C tensor without registers
    if hf_config and 'rope_theta' in hf_config:
        head_dims = hf_config['hidden_size'] // hf_config['num_attention_heads']
        state['rope_embed.periods'] = rope_periods(head_dims, float(hf_config['rope_theta']))
    return state


def hf_base_prefix(state_dict: Mapping[str, Tensor]) -> Optional[str]:
    """The prefix of a ``transformers`` base model's keys (``''``, ``'dinov2.'``, ...).

    What precedes :data:`HF_MARKER`, if that is a chain of
    :data:`HF_WRAPPER_PREFIXES`; ``None`` when no key (or more than one
    prefix) has it: not a ``transformers`` state dict.
    """
    prefixes = {key[:-len(HF_MARKER)] for key in state_dict if key.endswith(HF_MARKER)}
    if len(prefixes) != 1:
        return None
    prefix = rest = prefixes.pop()
    while rest:
        head = next((p for p in HF_WRAPPER_PREFIXES if rest.startswith(p)), None)
        if head is None:
            return None
        rest = rest[len(head):]
    return prefix


def hf_to_official(state_dict: Mapping[str, Tensor], hf_config: Optional[dict] = None,
                   source: str = 'checkpoint') -> Dict[str, Tensor]:
    """A ``transformers`` state dict → official layout (identity for anything else).

    The base model's keys are taken from under their prefix
    (:func:`hf_base_prefix`; task heads outside it and the pooler are
    dropped), transformers 5's module names become the hub's
    (:data:`HF5_TO_HUB`), then the keys are mapped back.
    """
    prefix = hf_base_prefix(state_dict)
    if prefix is None:
        return dict(state_dict)
    state = rename_keys({key[len(prefix):]: value for key, value in state_dict.items()
                         if key.startswith(prefix)
                         and not key[len(prefix):].startswith(HF_HEAD_PREFIXES)}, HF5_TO_HUB)
    layout = hf_layout(state)
    if layout is None:
        return dict(state_dict)
    if layout == 'encoder':
        return hf_encoder_to_official(state, source)
    return hf_dinov3_to_official(state, hf_config, source)


def strip_prefix(state_dict: Mapping[str, Tensor], prefix: str) -> Dict[str, Tensor]:
    """Keep the keys under ``prefix`` (without it) if any key has it; otherwise return all."""
    if not any(key.startswith(prefix) for key in state_dict):
        return dict(state_dict)
    return {key[len(prefix):]: value for key, value in state_dict.items() if key.startswith(prefix)}


def unwrap_state_dict(checkpoint: Mapping, checkpoint_key: str = 'teacher',
                      source: str = 'checkpoint') -> Dict[str, Tensor]:
    """Pick the backbone's tensors out of any supported container; strip wrapper prefixes.

    Order: ``state_dict`` (mmuss / mmengine) → ``checkpoint_key`` (``teacher``
    or ``student``) → ``model``; then ``module.``, ``{checkpoint_key}.`` and
    ``backbone.`` prefixes. When ``backbone.`` keys exist, only they are kept
    (the others belong to the self-supervised projection heads).
    """
    state = checkpoint
    if 'state_dict' in state:
        state = state['state_dict']
    elif checkpoint_key in state:
        state = state[checkpoint_key]
    elif 'model' in state:
        state = state['model']
    elif any(key in state for key in ('teacher', 'student')):
        raise KeyError(f'{source} has no {checkpoint_key!r} entry (it has {sorted(state)}); '
                       f"set init_cfg.checkpoint_key to 'teacher' or 'student'.")
    state = {key: value for key, value in state.items() if isinstance(value, Tensor)}
    for prefix in ('module.', f'{checkpoint_key}.', 'backbone.'):
        state = strip_prefix(state, prefix)
    return state


def unchunk_blocks(state_dict: Mapping[str, Tensor]) -> Dict[str, Tensor]:
    """DINOv2 ``block_chunks``: ``blocks.<chunk>.<i>.*`` → ``blocks.<i>.*`` (``i`` is global)."""
    return {CHUNKED_BLOCK.sub(r'blocks.\1.', key): value for key, value in state_dict.items()}


def timm_to_official(state_dict: Mapping[str, Tensor]) -> Dict[str, Tensor]:
    """Undo timm's renaming of DINO/DINOv2 weights (identity for official state dicts).

    - ``reg_token`` → ``register_tokens``;
    - timm's register models have no class row in ``pos_embed`` (their class
      token already includes it): a zero row is prepended, which leaves
      ``cls_token + pos_embed[0]`` unchanged;
    - packed SwiGLU ``mlp.fc1`` (2× hidden rows) / ``mlp.fc2`` → ``mlp.w12`` / ``mlp.w3``;
    - a missing ``mask_token`` of a DINOv2 state dict becomes zeros: timm drops
      it, and it only serves masked-image training, never this forward pass.
    """
    out = dict(state_dict)
    if 'reg_token' in out:
        out['register_tokens'] = out.pop('reg_token')
    pos = out.get('pos_embed')
    if pos is not None and math.isqrt(pos.shape[1]) ** 2 == pos.shape[1]:
        out['pos_embed'] = torch.cat((pos.new_zeros(1, 1, pos.shape[2]), pos), dim=1)
    for key in [k for k in out if k.endswith('.mlp.fc1.weight')]:
        stem = key[:-len('fc1.weight')]
        fc2 = out.get(f'{stem}fc2.weight')
        if fc2 is not None and out[key].shape[0] == 2 * fc2.shape[1]:
            for old, new in (('fc1', 'w12'), ('fc2', 'w3')):
                for param in ('weight', 'bias'):
                    if f'{stem}{old}.{param}' in out:
                        out[f'{stem}{new}.{param}'] = out.pop(f'{stem}{old}.{param}')
    if is_dinov2(out) and 'mask_token' not in out and 'cls_token' in out:
        out['mask_token'] = out['cls_token'].new_zeros(1, out['cls_token'].shape[-1])
    return out


def official_state_dict(checkpoint: Mapping, checkpoint_key: str = 'teacher',
                        source: str = 'checkpoint',
                        hf_config: Optional[dict] = None) -> Dict[str, Tensor]:
    """Any supported checkpoint container → backbone state dict in the official key layout.

    ``hf_config`` is the ``config.json`` of a Hugging Face checkpoint (DINOv3's
    RoPE periods come from it). DINOv3's training-only ``local_cls_norm`` is
    dropped.
    """
    if checkpoint_key not in ('teacher', 'student'):
        raise ValueError(f"checkpoint_key must be 'teacher' or 'student', got {checkpoint_key!r}.")
    given = unwrap_state_dict(checkpoint, checkpoint_key, source)
    state = timm_to_official(unchunk_blocks(hf_to_official(given, hf_config, source)))
    if not all(key in state for key in OFFICIAL_REQUIRED):
        raise KeyError(unrecognised_layout(source, given or checkpoint))
    return {k: v for k, v in state.items() if not k.startswith(DINOV3_TRAINING_ONLY)}


def key_sample(keys, count: int = 8) -> list:
    """Up to ``count`` keys, the first of each two-level stem (``blocks.N``, ``encoder.layer``)."""
    firsts = {}
    for key in sorted(map(str, keys)):
        stem = '.'.join(re.sub(r'^\d+$', 'N', part) for part in key.split('.')[:2])
        firsts.setdefault(stem, key)
    return list(firsts.values())[:count]


def unrecognised_layout(source: str, state: Mapping) -> str:
    """The error for a state dict in none of :data:`ACCEPTED_LAYOUTS`."""
    accepted = ''.join(f' ({i}) {layout};' for i, layout in enumerate(ACCEPTED_LAYOUTS, 1))
    return (f'{source} is not a DINO/DINOv2 ViT state dict (nor DINOv3) in a layout mmuss '
            f'reads: it has no {" / ".join(map(repr, OFFICIAL_REQUIRED))} after conversion. '
            f'Keys seen ({len(state)}), e.g. {key_sample(state)}. '
            f'Accepted layouts:{accepted[:-1]}.')


def check_state_dict(expected: Mapping[str, torch.Size], given: Mapping[str, Tensor],
                     source: str = 'checkpoint') -> None:
    """Raise one error listing every missing, unexpected and wrongly shaped key."""
    missing = sorted(set(expected) - set(given))
    unexpected = sorted(set(given) - set(expected))
    shapes = sorted(f'{key}: checkpoint {tuple(given[key].shape)} vs model {tuple(shape)}'
                    for key, shape in expected.items()
                    if key in given and tuple(given[key].shape) != tuple(shape))
    problems = [f'{name} ({len(keys)}): {keys}' for name, keys in (
        ('missing keys', missing), ('unexpected keys', unexpected), ('shape mismatches', shapes))
                if keys]
    if problems:
        raise KeyError(f'{source} does not match the backbone; ' + '; '.join(problems))


def load_official_state_dict(model: nn.Module, state_dict: Mapping[str, Tensor],
                             variant: DinoVariant, source: str = 'checkpoint') -> None:
    """Check the variant, then every key and shape, then load with ``strict=True``."""
    found = variant_of_state_dict(state_dict, source)
    if found != variant:
        raise ValueError(f'{source} is a {found.describe()}, but the backbone is configured as a '
                         f'{variant.describe()}. Use the config of the checkpoint\'s variant.')
    expected = {key: value.shape for key, value in model.state_dict().items()}
    check_state_dict(expected, state_dict, source)
    model.load_state_dict(state_dict, strict=True)


def load_dino_checkpoint(model: nn.Module, filename: str, variant: DinoVariant,
                         checkpoint_key: Optional[str] = None) -> None:
    """Read ``filename`` (path, URL or Hugging Face folder), normalise it and load it strictly.

    A Hugging Face DINOv3 checkpoint without ``config.json`` carries no RoPE
    periods; they are then the backbone's own (from its ``rope_base``).
    """
    source = f'checkpoint {filename!r}'
    checkpoint, hf_config = read_any_checkpoint(filename)
    state = official_state_dict(checkpoint, checkpoint_key or 'teacher', source, hf_config)
    rope = getattr(model, 'rope_embed', None)
    if rope is not None and 'rope_embed.periods' not in state:
        state['rope_embed.periods'] = rope.periods.detach().clone()
    load_official_state_dict(model, state, variant, source)
