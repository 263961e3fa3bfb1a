"""What the DINO and DINOv2 backbones share: tokens, blocks, outputs, freezing, loading."""
import contextlib
import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from ..utils.backbone_output import BackboneOutput
from ..utils.dino_checkpoint import DinoVariant, load_dino_checkpoint
from ..utils.vit_layers import AttentionExtras, PatchEmbed, ViTBlock

ARCH_KEYS = ('embed_dims', 'num_layers', 'num_heads', 'mlp_ratio', 'ffn_type', 'layer_scale')
PRETRAINED_KEYS = ('type', 'checkpoint', 'checkpoint_key')


def tokens_to_map(tokens: Tensor, grid_hw: Tuple[int, int]) -> Tensor:
    """``B×(h·w)×C`` row-major patch tokens → ``B×C×h×w`` map."""
    batch, _, dims = tokens.shape
    return tokens.transpose(1, 2).reshape(batch, dims, *grid_hw)


def normalise_indices(indices: Union[int, Sequence[int]], num_layers: int) -> List[int]:
    """Block indices (negative counts from the end) → sorted unique non-negative indices."""
    indices = [indices] if isinstance(indices, int) else list(indices)
    if not indices:
        raise ValueError('out_indices must name at least one block.')
    bad = [i for i in indices if not -num_layers <= i < num_layers]
    if bad:
        raise ValueError(f'out_indices {bad} out of range for {num_layers} blocks.')
    return sorted({i % num_layers for i in indices})


class BaseDinoViT(BaseModule):
    """Frozen DINO-family ViT returning a :class:`BackboneOutput`.

    Subclasses set :attr:`family`, :attr:`arch_zoo`, :attr:`has_mask_token`
    (DINOv2's ``mask_token``, kept for strict loading; it only serves
    masked-image training and never enters this forward pass) and the
    pos-embed interpolation (:meth:`position_embedding`).

    Outputs (all over patch tokens only; class and register tokens dropped):

    - maps: for every block in ``out_indices`` its tokens, after the final
      LayerNorm when ``final_norm``, as ``B×C×h×w`` (default: the last block);
    - ``attn`` (``out_attn``): last-block pre-softmax logits ``q·kᵀ·d^-½``,
      ``B×heads×N×N``;
    - ``qkv`` (``out_qkv``): last-block ``(q, k, v)``, each ``B×heads×N×d``;
    - ``cls_token`` (``out_cls_token``): last-block class token after the
      final norm, ``B×C``.

    Attention runs through SDPA except in the last block when ``out_attn``
    is set, or everywhere with ``attn_impl='explicit'``.

    Inputs must be multiples of the patch size: otherwise a ``ValueError``,
    or with ``crop_to_patch=True`` the bottom/right remainder pixels are
    dropped (what DINO v1's strided patch conv does implicitly; the
    pos-embed interpolation still sees the uncropped size, as in DINO v1).

    Args:
        arch: A name of :attr:`arch_zoo` or a dict with ``embed_dims``,
            ``num_layers``, ``num_heads`` and optionally ``mlp_ratio`` (4),
            ``ffn_type`` (``'mlp'``/``'swiglu'``), ``layer_scale``.
        patch_size: Patch side.
        img_size: Pretraining image size; the pos-embed grid is
            ``img_size // patch_size`` square.
        num_register_tokens: Register tokens (DINOv2 only).
        out_indices: Blocks whose tokens become output maps.
        final_norm: Apply the final LayerNorm to every output map and CLS.
        out_attn: Also return the last block's attention logits.
        out_qkv: Also return the last block's q, k, v.
        out_cls_token: Also return the CLS token.
        attn_impl: ``'sdpa'`` or ``'explicit'`` (for benchmarks).
        frozen: Eval mode, no parameter gradients, forward under ``no_grad``.
        crop_to_patch: Crop inputs to a multiple of the patch size.
        init_cfg: ``dict(type='Pretrained', checkpoint=path_or_url,
            checkpoint_key='teacher'|'student')`` loads strictly through
            :func:`load_dino_checkpoint`; other init configs go to mmengine.
    """

    family: str = ''
    arch_zoo: Dict[str, dict] = {}
    default_layer_scale: bool = False
    has_mask_token: bool = False

    def __init__(self,
                 arch: Union[str, dict],
                 patch_size: int,
                 img_size: int,
                 num_register_tokens: int = 0,
                 out_indices: Union[int, Sequence[int]] = -1,
                 final_norm: bool = True,
                 out_attn: bool = False,
                 out_qkv: bool = False,
                 out_cls_token: bool = False,
                 attn_impl: str = 'sdpa',
                 frozen: bool = True,
                 crop_to_patch: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        settings = self.resolve_arch(arch)
        if attn_impl not in ('sdpa', 'explicit'):
            raise ValueError(f"attn_impl must be 'sdpa' or 'explicit', got {attn_impl!r}.")
        if num_register_tokens < 0:
            raise ValueError(f'num_register_tokens must be >= 0, got {num_register_tokens}.')
        self.embed_dims = settings['embed_dims']
        self.num_layers = settings['num_layers']
        self.num_heads = settings['num_heads']
        self.ffn_type = settings['ffn_type']
        self.patch_size = patch_size
        self.pos_grid = img_size // patch_size
        self.num_register_tokens = num_register_tokens
        self.out_indices = normalise_indices(out_indices, self.num_layers)
        self.final_norm = final_norm
        self.out_attn = out_attn
        self.out_qkv = out_qkv
        self.out_cls_token = out_cls_token
        self.attn_impl = attn_impl
        self.frozen = frozen
        self.crop_to_patch = crop_to_patch

        dims = self.embed_dims
        self.patch_embed = PatchEmbed(patch_size, dims)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dims))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + self.pos_grid**2, dims))
        if num_register_tokens:
            self.register_tokens = nn.Parameter(torch.zeros(1, num_register_tokens, dims))
        else:
            self.register_tokens = None
        self.blocks = nn.ModuleList([
            ViTBlock(dims, self.num_heads, settings['mlp_ratio'], settings['ffn_type'],
                     settings['layer_scale']) for _ in range(self.num_layers)
        ])
        self.norm = nn.LayerNorm(dims, eps=1e-6)
        if self.has_mask_token:
            self.mask_token = nn.Parameter(torch.zeros(1, dims))
        self.random_init()
        if frozen:
            self.requires_grad_(False)
            self.eval()

    def resolve_arch(self, arch: Union[str, dict]) -> dict:
        """Arch name or dict → complete settings (see the class docstring)."""
        if isinstance(arch, str):
            if arch not in self.arch_zoo:
                raise ValueError(f'Unknown {self.family} arch {arch!r}; choose one of '
                                 f'{sorted(self.arch_zoo)} or give a dict.')
            arch = self.arch_zoo[arch]
        arch = dict(arch)
        unknown = set(arch) - set(ARCH_KEYS)
        missing = {'embed_dims', 'num_layers', 'num_heads'} - set(arch)
        if unknown or missing:
            raise ValueError(f'arch dict: unknown keys {sorted(unknown)}, missing keys '
                             f'{sorted(missing)}; allowed: {list(ARCH_KEYS)}.')
        arch.setdefault('mlp_ratio', 4.0)
        arch.setdefault('ffn_type', 'mlp')
        arch.setdefault('layer_scale', self.default_layer_scale)
        return arch

    @property
    def variant(self) -> DinoVariant:
        """What a checkpoint for this backbone must be."""
        return DinoVariant(self.family, self.embed_dims, self.num_layers, self.patch_size,
                           self.num_register_tokens, self.ffn_type, self.pos_grid)

    def random_init(self) -> None:
        """The official initialisation (only meaningful without a checkpoint)."""
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)

    def init_weights(self) -> None:
        """Load ``init_cfg``'s checkpoint strictly, or fall back to mmengine's initialisers."""
        cfg = self.init_cfg
        if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
            unknown = set(cfg) - set(PRETRAINED_KEYS)
            if unknown or 'checkpoint' not in cfg:
                raise ValueError(f'{type(self).__name__} init_cfg takes {list(PRETRAINED_KEYS)} '
                                 f'(checkpoint required); got {sorted(cfg)}.')
            load_dino_checkpoint(self, cfg['checkpoint'], self.variant, cfg.get('checkpoint_key'))
            self._is_init = True
            return
        super().init_weights()

    def train(self, mode: bool = True) -> 'BaseDinoViT':
        return super().train(mode and not self.frozen)

    def position_embedding(self, tokens: Tensor, image_hw: Tuple[int, int]) -> Tensor:
        """``1×(1+h·w)×C`` position embeddings for an ``image_hw`` input."""
        raise NotImplementedError

    def crop_input(self, x: Tensor) -> Tensor:
        """Check (or crop) the input size against the patch size."""
        height, width = x.shape[-2:]
        patch = self.patch_size
        if height % patch == 0 and width % patch == 0:
            return x
        if not self.crop_to_patch:
            up = (math.ceil(height / patch) * patch, math.ceil(width / patch) * patch)
            raise ValueError(
                f'{type(self).__name__} got a {height}x{width} input, which is not a multiple '
                f'of patch_size={patch}. Resize or pad it (e.g. to {up[0]}x{up[1]}) or set '
                f'crop_to_patch=True to drop the bottom/right remainder.')
        return x[..., :height - height % patch, :width - width % patch]

    def prepare_tokens(self, x: Tensor) -> Tuple[Tensor, Tuple[int, int]]:
        """Images → ``[CLS, registers, patches]`` tokens with position embeddings, and the grid.

        Position embeddings are added to CLS and patches; registers are
        inserted after that, without any (as in DINOv2).
        """
        image_hw = (x.shape[-2], x.shape[-1])
        patches, grid_hw = self.patch_embed(self.crop_input(x))
        tokens = torch.cat((self.cls_token.expand(patches.shape[0], -1, -1), patches), dim=1)
        tokens = tokens + self.position_embedding(tokens, image_hw)
        if self.register_tokens is not None:
            registers = self.register_tokens.expand(tokens.shape[0], -1, -1)
            tokens = torch.cat((tokens[:, :1], registers, tokens[:, 1:]), dim=1)
        return tokens, grid_hw

    def forward(self, x: Tensor) -> BackboneOutput:
        """``B×3×H×W`` normalised images → :class:`BackboneOutput`."""
        with torch.no_grad() if self.frozen else contextlib.nullcontext():
            return self.encode(x)

    def encode(self, x: Tensor) -> BackboneOutput:
        """The forward pass proper (see the class docstring for the outputs)."""
        tokens, grid_hw = self.prepare_tokens(x)
        prefix = 1 + self.num_register_tokens
        last = self.num_layers - 1
        needs_last = self.out_attn or self.out_qkv or self.out_cls_token
        stop = last if needs_last else self.out_indices[-1]
        maps, extras, normed = [], AttentionExtras(None, None), tokens
        for index in range(stop + 1):
            is_last = index == last
            explicit = self.attn_impl == 'explicit' or (is_last and self.out_attn)
            tokens, block_extras = self.blocks[index](
                tokens, explicit=explicit, keep_qkv=is_last and self.out_qkv)
            if is_last:
                extras = block_extras
            if index in self.out_indices or (is_last and self.out_cls_token):
                normed = self.norm(tokens) if self.final_norm else tokens
            if index in self.out_indices:
                maps.append(tokens_to_map(normed[:, prefix:], grid_hw))
        out = dict(attn=None, qkv=None, cls_token=None)
        if self.out_attn:
            out['attn'] = extras.logits[:, :, prefix:, prefix:]
        if self.out_qkv:
            out['qkv'] = tuple(t[:, :, prefix:] for t in extras.qkv)
        if self.out_cls_token:
            out['cls_token'] = normed[:, 0]
        return BackboneOutput(maps, **out)
