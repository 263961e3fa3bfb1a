"""What the DINO, DINOv2 and DINOv3 backbones share: tokens, blocks, outputs, freezing, loading."""
import contextlib
import logging
import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch import Tensor

from ..utils.backbone_output import BackboneOutput
from .vit.dino_checkpoint import DinoVariant, load_dino_checkpoint
from ..utils.freeze import freeze_
from .vit.layers import AttentionExtras, PatchEmbed, ViTBlock

ARCH_KEYS = ('embed_dims', 'num_layers', 'num_heads', 'mlp_ratio', 'ffn_type', 'layer_scale',
             'qkv_bias', 'swiglu_align')
PRETRAINED_KEYS = ('type', 'checkpoint', 'checkpoint_key')
Rope = Tuple[Tensor, Tensor]


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

    Subclasses set the class attributes :attr:`family`, :attr:`arch_zoo`, the
    constructor defaults (``default_*``), the block options
    (:attr:`norm_eps`, :attr:`mask_k_bias`, :attr:`swiglu_split`),
    :attr:`has_mask_token` (DINOv2/v3's ``mask_token``, kept for strict
    loading; it only serves masked-image training and never enters this
    forward pass) and the position encoding (:meth:`position_embedding` for
    learned embeddings, or :meth:`prepare_tokens` returning RoPE tables).

    Outputs (all over patch tokens only; class and register tokens dropped):

    - maps: for every block in ``out_indices`` its tokens, after the final
      LayerNorm when ``final_norm``, as ``B×C×h×w`` (default: the last block);
    - ``attn`` (``out_attn``): the last block's pre-softmax logits
      ``q·kᵀ·d^-½`` between patch tokens only (queries = rows, keys =
      columns), ``B×heads×N×N``; the class/register rows and columns are cut
      off, so this is not the CLS attention map;
    - ``qkv`` (``out_qkv``): the last block's ``(q, k, v)`` of the patch
      tokens, each ``B×heads×N×d`` (for DINOv3 q and k after RoPE);
    - ``cls_token`` (``out_cls_token``): the last block's class token after
      the final norm, ``B×C``;
    - ``cls_attn`` (``out_cls_attn``): the last block's attention of the CLS
      query to the patch tokens, softmax over all tokens (for DINOv3 after
      RoPE), ``B×heads×h×w`` — DINO's attention maps.

    Attention runs through SDPA except in the last block when ``out_attn``
    or ``out_cls_attn`` is set, or everywhere with ``attn_impl='explicit'``.

    Inputs must be multiples of the patch size: otherwise a ``ValueError``,
    or with ``crop_to_patch=True`` the bottom/right remainder pixels are
    dropped.

    Args:
        arch: A name of :attr:`arch_zoo` or a dict with ``embed_dims``,
            ``num_layers``, ``num_heads`` and optionally ``mlp_ratio`` (4),
            ``ffn_type`` (``'mlp'``/``'swiglu'``), ``layer_scale``,
            ``qkv_bias`` (True), ``swiglu_align`` (8).
        patch_size: Patch side.
        img_size: Pretraining image size (learned pos-embed grid
            ``img_size // patch_size``; unused by RoPE models).
        num_register_tokens: Register (DINOv3: storage) tokens.
        out_indices: Blocks whose tokens become output maps.
        final_norm: Apply the final LayerNorm to every output map and CLS.
        out_attn: Also return the last block's attention logits.
        out_qkv: Also return the last block's q, k, v.
        out_cls_token: Also return the CLS token.
        out_cls_attn: Also return the last block's CLS attention map.
        attn_impl: ``'sdpa'`` or ``'explicit'`` (for benchmarks).
        frozen: Eval mode, no parameter gradients, forward under ``no_grad``.
        crop_to_patch: Crop inputs to a multiple of the patch size.
        init_cfg: ``dict(type='Pretrained', checkpoint=path_or_url_or_folder,
            checkpoint_key='teacher'|'student')`` loads strictly through
            :func:`load_dino_checkpoint`; other init configs go to mmengine.
            ``None`` keeps the random initialisation, with a warning.

    ``None`` arguments take the class defaults.
    """

    family: str = ''
    arch_zoo: Dict[str, dict] = {}
    default_arch: str = 'small'
    default_patch_size: int = 16
    default_img_size: int = 224
    default_num_register_tokens: int = 0
    default_layer_scale: bool = False
    supports_registers: bool = True
    learned_pos_embed: bool = True
    has_mask_token: bool = False
    norm_eps: float = 1e-6
    mask_k_bias: bool = False
    swiglu_split: bool = False

    def __init__(self,
                 arch: Union[str, dict, None] = None,
                 patch_size: Optional[int] = None,
                 img_size: Optional[int] = None,
                 num_register_tokens: Optional[int] = None,
                 out_indices: Union[int, Sequence[int]] = -1,
                 final_norm: bool = True,
                 out_attn: bool = False,
                 out_qkv: bool = False,
                 out_cls_token: bool = False,
                 out_cls_attn: bool = False,
                 attn_impl: str = 'sdpa',
                 frozen: bool = True,
                 crop_to_patch: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        settings = self.resolve_arch(self.default_arch if arch is None else arch)
        if attn_impl not in ('sdpa', 'explicit'):
            raise ValueError(f"attn_impl must be 'sdpa' or 'explicit', got {attn_impl!r}.")
        if num_register_tokens is None:
            num_register_tokens = self.default_num_register_tokens
        if num_register_tokens < 0 or (num_register_tokens and not self.supports_registers):
            raise ValueError(f'{type(self).__name__} cannot have num_register_tokens='
                             f'{num_register_tokens} ({self.family} models have '
                             f'{"none" if not self.supports_registers else ">= 0"}).')
        self.embed_dims = settings['embed_dims']
        self.map_channels = self.embed_dims  # every output map (mmuss.models.utils.wiring)
        self.num_layers = settings['num_layers']
        self.num_heads = settings['num_heads']
        self.ffn_type = settings['ffn_type']
        self.patch_size = self.default_patch_size if patch_size is None else patch_size
        img_size = self.default_img_size if img_size is None else img_size
        self.pos_grid = img_size // self.patch_size if self.learned_pos_embed else 0
        self.num_register_tokens = num_register_tokens
        self.out_indices = normalise_indices(out_indices, self.num_layers)
        self.final_norm = final_norm
        self.out_attn = out_attn
        self.out_qkv = out_qkv
        self.out_cls_token = out_cls_token
        self.out_cls_attn = out_cls_attn
        self.attn_impl = attn_impl
        self.frozen = frozen
        self.crop_to_patch = crop_to_patch

        self.patch_embed = PatchEmbed(self.patch_size, self.embed_dims)
        self.build_embeddings()
        self.blocks = nn.ModuleList([
            ViTBlock(self.embed_dims, self.num_heads, settings['mlp_ratio'], settings['ffn_type'],
                     settings['layer_scale'], self.norm_eps, settings['qkv_bias'],
                     self.mask_k_bias, self.swiglu_split, settings['swiglu_align'])
            for _ in range(self.num_layers)
        ])
        self.norm = nn.LayerNorm(self.embed_dims, eps=self.norm_eps)
        if self.has_mask_token:
            self.mask_token = nn.Parameter(torch.zeros(1, self.embed_dims))
        self.random_init()
        if frozen:
            freeze_(self)

    def build_embeddings(self) -> None:
        """Class token, learned position embeddings and registers (DINO / DINOv2)."""
        dims = self.embed_dims
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dims))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + self.pos_grid**2, dims))
        self.register_tokens = None
        if self.num_register_tokens:
            self.register_tokens = nn.Parameter(torch.zeros(1, self.num_register_tokens, dims))

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
        arch.setdefault('qkv_bias', True)
        arch.setdefault('swiglu_align', 8)
        return arch

    @property
    def variant(self) -> DinoVariant:
        """What a checkpoint for this backbone must be."""
        return DinoVariant(self.family, self.embed_dims, self.num_layers, self.patch_size,
                           self.num_register_tokens, self.ffn_type, self.pos_grid)

    def random_init(self) -> None:
        """The official initialisation (only meaningful without a checkpoint)."""
        if getattr(self, 'pos_embed', None) is not None:
            nn.init.trunc_normal_(self.pos_embed, std=0.02)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def init_weights(self) -> None:
        """Load ``init_cfg``'s checkpoint strictly, or fall back to mmengine's initialisers.

        Without any ``init_cfg`` the random initialisation stays, and one
        warning says so (a frozen random backbone is only useful for tests).
        """
        cfg = self.init_cfg
        if cfg is None and not self._is_init:
            print_log(f'{type(self).__name__} ({self.variant.name}) has init_cfg=None and keeps '
                      'its RANDOM weights: its features are meaningless for segmentation. Set '
                      "init_cfg=dict(type='Pretrained', checkpoint=...) to load the official "
                      'weights (see docs/backbones.md).', logger='current', level=logging.WARNING)
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

    def prepare_tokens(self, x: Tensor) -> Tuple[Tensor, Tuple[int, int], Optional[Rope]]:
        """Images → ``[CLS, registers, patches]`` tokens, the patch grid and RoPE tables.

        Learned position embeddings are added to CLS and patches; registers
        are inserted after that, without any (as in DINOv2). No RoPE here.
        """
        image_hw = (x.shape[-2], x.shape[-1])
        patches, grid_hw = self.patch_embed(self.crop_input(x))
        tokens = torch.cat((self.cls_token.expand(patches.shape[0], -1, -1), patches), dim=1)
        tokens = tokens + self.position_embedding(tokens, image_hw)
        if self.register_tokens is not None:
            registers = self.register_tokens.expand(tokens.shape[0], -1, -1)
            tokens = torch.cat((tokens[:, :1], registers, tokens[:, 1:]), dim=1)
        return tokens, grid_hw, None

    def forward(self, x: Tensor) -> BackboneOutput:
        """``B×3×H×W`` normalised images → :class:`BackboneOutput`."""
        with torch.no_grad() if self.frozen else contextlib.nullcontext():
            return self.encode(x)

    def encode(self, x: Tensor) -> BackboneOutput:
        """The forward pass proper (see the class docstring for the outputs)."""
        tokens, grid_hw, rope = self.prepare_tokens(x)
        prefix = 1 + self.num_register_tokens
        last = self.num_layers - 1
        needs_logits = self.out_attn or self.out_cls_attn
        needs_last = needs_logits or self.out_qkv or self.out_cls_token
        stop = last if needs_last else self.out_indices[-1]
        maps, extras, normed = [], AttentionExtras(None, None), tokens
        for index in range(stop + 1):
            is_last = index == last
            explicit = self.attn_impl == 'explicit' or (is_last and needs_logits)
            tokens, block_extras = self.blocks[index](
                tokens, explicit=explicit, keep_qkv=is_last and self.out_qkv, rope=rope)
            if is_last:
                extras = block_extras
            if index in self.out_indices or (is_last and self.out_cls_token):
                normed = self.norm(tokens) if self.final_norm else tokens
            if index in self.out_indices:
                maps.append(tokens_to_map(normed[:, prefix:], grid_hw))
        out = dict(attn=None, qkv=None, cls_token=None, cls_attn=None)
        if self.out_cls_attn:
            cls_attn = extras.logits[:, :, 0].softmax(dim=-1)[:, :, prefix:]
            out['cls_attn'] = cls_attn.reshape(*cls_attn.shape[:2], *grid_hw)
        if self.out_attn:
            out['attn'] = extras.logits[:, :, prefix:, prefix:]
        if self.out_qkv:
            out['qkv'] = tuple(t[:, :, prefix:] for t in extras.qkv)
        if self.out_cls_token:
            out['cls_token'] = normed[:, 0]
        return BackboneOutput(maps, **out)
