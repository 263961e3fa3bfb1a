"""Reading DINO / DINOv2 checkpoints into the official (= mmuss) key layout, strictly.

Accepted inputs (file path or URL, read with mmengine's ``CheckpointLoader``):

- DINO v1 ``*_pretrain.pth`` and DINOv2 hub ``*_pretrain.pth``: plain backbone
  state dicts in the official layout;
- DINO full training checkpoints: ``teacher`` / ``student`` dicts with
  ``module.`` / ``backbone.`` prefixes (the teacher by default); the
  projection-head keys (everything outside ``backbone.``) are dropped;
- DINOv2 training checkpoints: ``model`` with ``teacher.`` / ``student.``
  prefixes, or ``teacher`` dicts, with ``block_chunks`` (``blocks.c.i.``);
- timm ViT state dicts (``reg_token``, class-free ``pos_embed`` of the register
  models, packed SwiGLU ``mlp.fc1``/``mlp.fc2``, no ``mask_token``);
- mmuss format (what ``tools/model_converters`` write): ``{'state_dict': ...,
  'meta': ...}`` with the official keys, optionally under ``backbone.``.

After normalisation the checkpoint's variant (family, width, depth, patch,
registers, FFN, pos-embed grid) is compared with the backbone's, then every
key and shape, and anything that differs is an error - never a partial load.
"""
import argparse
import contextlib
import math
import re
from dataclasses import dataclass
from typing import Dict, Mapping, Optional

import torch
from torch import Tensor, nn

SIZE_NAMES = {192: 'Ti', 384: 'S', 768: 'B', 1024: 'L', 1536: 'g'}
CHUNKED_BLOCK = re.compile(r'^blocks\.\d+\.(\d+)\.')
BLOCK_INDEX = re.compile(r'^blocks\.(\d+)\.')
DINOV2_MARKERS = ('mask_token', 'register_tokens', '.ls1.gamma', '.mlp.w12.')


@dataclass(frozen=True)
class DinoVariant:
    """What identifies a DINO-family ViT's weights.

    Attributes:
        family: ``'DINO'`` (v1) or ``'DINOv2'``.
        embed_dims: Token width.
        num_layers: Number of blocks.
        patch_size: Patch side.
        num_register_tokens: Register tokens (DINOv2 only).
        ffn_type: ``'mlp'`` or ``'swiglu'``.
        pos_grid: Side of the pretraining position-embedding grid.
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
        """E.g. ``'DINOv2 ViT-S/14 with 4 registers'``."""
        size = SIZE_NAMES.get(self.embed_dims, f'{self.embed_dims}d')
        regs = f' with {self.num_register_tokens} registers' if self.num_register_tokens else ''
        return f'{self.family} ViT-{size}/{self.patch_size}{regs}'

    def describe(self) -> str:
        """The name plus every field, for error messages."""
        return (f'{self.name} (embed_dims={self.embed_dims}, num_layers={self.num_layers}, '
                f'patch_size={self.patch_size}, num_register_tokens={self.num_register_tokens}, '
                f'ffn={self.ffn_type}, pos-embed grid {self.pos_grid}x{self.pos_grid})')


def is_dinov2(state_dict: Mapping[str, Tensor]) -> bool:
    """DINOv2 weights have a mask token, LayerScale, registers or SwiGLU; DINO v1 none."""
    return any(mark in key for key in state_dict for mark in DINOV2_MARKERS)


def variant_of_state_dict(state_dict: Mapping[str, Tensor],
                          source: str = 'checkpoint') -> DinoVariant:
    """Infer the :class:`DinoVariant` of an official-layout state dict from its keys and shapes."""
    for key in ('patch_embed.proj.weight', 'pos_embed'):
        if key not in state_dict:
            raise KeyError(f'{source} has no {key!r}: it is not a DINO/DINOv2 ViT state dict '
                           f'(first keys: {sorted(state_dict)[:8]}).')
    proj = state_dict['patch_embed.proj.weight']
    blocks = {int(m.group(1)) for m in map(BLOCK_INDEX.match, state_dict) if m}
    regs = state_dict.get('register_tokens')
    return DinoVariant(
        family='DINOv2' if is_dinov2(state_dict) else 'DINO',
        embed_dims=proj.shape[0],
        num_layers=max(blocks) + 1 if blocks else 0,
        patch_size=proj.shape[-1],
        num_register_tokens=regs.shape[1] if regs is not None else 0,
        ffn_type='swiglu' if any('.mlp.w12.' in key for key in state_dict) else 'mlp',
        pos_grid=math.isqrt(state_dict['pos_embed'].shape[1] - 1))


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
        if out[key].shape[0] == 2 * out[f'{stem}fc2.weight'].shape[1]:
            for old, new in (('fc1', 'w12'), ('fc2', 'w3')):
                for param in ('weight', 'bias'):
                    if f'{stem}{old}.{param}' in out:
                        out[f'{stem}{new}.{param}'] = out.pop(f'{stem}{old}.{param}')
    if is_dinov2(out) and 'mask_token' not in out and 'cls_token' in out:
        out['mask_token'] = out['cls_token'].new_zeros(1, out['cls_token'].shape[-1])
    return out


def official_state_dict(checkpoint: Mapping, checkpoint_key: str = 'teacher',
                        source: str = 'checkpoint') -> Dict[str, Tensor]:
    """Any supported checkpoint container → backbone state dict in the official key layout."""
    if checkpoint_key not in ('teacher', 'student'):
        raise ValueError(f"checkpoint_key must be 'teacher' or 'student', got {checkpoint_key!r}.")
    state = unwrap_state_dict(checkpoint, checkpoint_key, source)
    return timm_to_official(unchunk_blocks(state))


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
    """Read ``filename`` (path or URL), normalise it and load it strictly into ``model``."""
    source = f'checkpoint {filename!r}'
    state = official_state_dict(read_checkpoint(filename), checkpoint_key or 'teacher', source)
    load_official_state_dict(model, state, variant, source)
