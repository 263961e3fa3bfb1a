"""HP's head: STEGO's projection plus an EMA copy, a projection head and local aggregation."""
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from mmseg.utils import OptConfigType, SampleList
from torch import Tensor

from ..utils.backbone_output import BackboneOutput
from ..utils.ema import EMATeacher
from ..utils.freeze import frozen_copy
from .base_uss_head import Views
from .stego_head import StegoHead


def window_mask(height: int, width: int, radius: int = 1) -> Tensor:
    """``n×n`` mask of the ``(2r+1)²`` grid window around each patch, clipped at the border.

    ``M_aj = 1`` iff ``|y_a − y_j| <= r`` and ``|x_a − x_j| <= r`` on the
    ``height×width`` grid (row-major, ``a`` itself included, no wrap-around).
    """
    ys, xs = torch.meshgrid(torch.arange(height), torch.arange(width), indexing='ij')
    ys, xs = ys.flatten(), xs.flatten()
    return ((ys[:, None] - ys[None, :]).abs() <= radius) & (
        (xs[:, None] - xs[None, :]).abs() <= radius)


def row_quantile(x: Tensor, q: float) -> Tensor:
    """Quantile ``q`` along the last axis with linear interpolation (``torch.quantile``'s rule).

    Sort-based, so it has no input-size limit. ``…×n`` → ``…×1``.
    """
    values = x.sort(dim=-1).values
    pos = q * (x.shape[-1] - 1)
    low, high = int(pos // 1), min(int(pos // 1) + 1, x.shape[-1] - 1)
    frac = pos - low
    return (values[..., low] + frac * (values[..., high] - values[..., low])).unsqueeze(-1)


def local_attention_weights(attn_logits: Tensor, height: int, width: int, sigma: float = 28.0,
                            q_low: float = 0.1, q_high: float = 0.9, radius: int = 1) -> Tensor:
    """LHP weights ``P`` from last-block attention (docs/methods/hp.md eq. 11), no grad.

    1. ``Â`` = pre-softmax logits averaged over heads;
    2. each row clamped to its ``[q_low, q_high]`` quantiles;
    3. ``P_a· = σ·softmax(Â_a·)``;
    4. entries below the row mean (``σ/n``) set to 0;
    5. entries outside the ``(2r+1)²`` window of ``a`` set to 0.

    Args:
        attn_logits: ``B×heads×n×n`` pre-softmax logits over patch tokens.
        height: Grid height ``h`` (``n = h·w``).
        width: Grid width ``w``.
        sigma: ``σ`` (28 in HP, the side of its 28×28 grid).
        q_low: Lower clamp quantile.
        q_high: Upper clamp quantile.
        radius: Window radius ``r``.

    Returns:
        ``B×n×n`` weights.
    """
    n = height * width
    if attn_logits.shape[-2:] != (n, n):
        raise ValueError(f'Attention logits of shape {tuple(attn_logits.shape)} do not cover '
                         f'the {height}×{width} feature grid ({n} patches).')
    with torch.no_grad():
        attn = attn_logits.float().mean(dim=1)
        attn = torch.minimum(torch.maximum(attn, row_quantile(attn, q_low)),
                             row_quantile(attn, q_high))
        weights = sigma * attn.softmax(dim=-1)
        weights = weights * (weights >= weights.mean(dim=-1, keepdim=True))
        return weights * window_mask(height, width, radius).to(weights)


def aggregate_local(code: Tensor, weights: Tensor, window_sizes: Tensor) -> Tensor:
    """``code_loc_a = (1/|W_a|) Σ_j P_aj code_j`` (docs/methods/hp.md eq. 12), with grad.

    Args:
        code: ``B×D×h×w`` code.
        weights: ``B×n×n`` constant weights ``P`` (zero outside the windows).
        window_sizes: ``n`` window sizes ``|W_a|`` (9 inside, 6 edge, 4 corner).

    Returns:
        ``B×D×h×w`` aggregated code.
    """
    b, d, h, w = code.shape
    flat = code.flatten(2).transpose(1, 2)
    out = weights.to(code) @ flat / window_sizes.to(code)[None, :, None]
    return out.transpose(1, 2).reshape(b, d, h, w)


def random_patch_rows(maps: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
    """One uniformly random patch vector per image, L2-normalised: ``B×C×h×w`` → ``B×C``."""
    b, c, h, w = maps.shape
    pos = torch.randint(h * w, (b, ), generator=generator).to(maps.device)
    return F.normalize(maps.flatten(2)[torch.arange(b, device=maps.device), :, pos].float(),
                       dim=1)


def patch_rows(maps: Tensor) -> Tensor:
    """``B×C×h×w`` → ``(B·h·w)×C``, image-major, row-major within an image."""
    return maps.flatten(2).transpose(1, 2).reshape(-1, maps.shape[1])


@MODELS.register_module()
class HPHead(StegoHead):
    """Hidden Positives head (docs/methods/hp.md).

    On top of :class:`StegoHead`'s projection (``linear``/``nonlinear``) it
    holds

    - ``ema_linear``/``ema_nonlinear``: an EMA copy (momentum ``ema_momentum``,
      no gradient) moved by its :class:`EMATeacher` ``teacher`` at the start
      of every training step but the first, towards the projection as it was
      one step earlier, which is the reference's timing (docs/methods/hp.md Q8);
    - ``project_head``: ``Linear(D, D)`` giving the contrastive embeddings;
    - ``pool_agnostic`` (``P×C_f``) and ``pool_specific`` (``P×D``): the
      reference pools, buffers filled by :class:`ReferencePoolHook` (hence
      saved in and resumed from checkpoints);
    - ``hp_lambda``: ``λ``, set by :class:`HPLambdaHook`.

    Training losses: ``loss_hp`` (:class:`HiddenPositiveLoss`, GHP + LHP,
    the LHP embeddings aggregated with :func:`local_attention_weights` from
    the backbone's ``attn``) and, with ``loss_consistency``, the consistency
    term on the photometric view ``views[aug_view]``. Probes as in
    :class:`BaseUSSHead`.

    Args:
        in_channels: Backbone width ``C_f``.
        channels: Code width ``D``.
        num_classes: Number of classes.
        pool_size: Reference-pool size ``P`` (2048; Potsdam 1024).
        ema_momentum: ``m`` (0.99 COCO, 0.999 Cityscapes/Potsdam).
        sigma: LHP ``σ``.
        loss_hp: :class:`HiddenPositiveLoss` config (default settings if ``None``).
        loss_consistency: :class:`PatchConsistencyLoss` config; ``None`` for no
            consistency term (α = 0, e.g. Potsdam).
        aug_view: Name of the photometric view.
        **kwargs: See :class:`StegoHead`.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int,
                 num_classes: int,
                 pool_size: int = 2048,
                 ema_momentum: float = 0.99,
                 sigma: float = 28.0,
                 loss_hp: OptConfigType = None,
                 loss_consistency: OptConfigType = None,
                 aug_view: str = 'img_aug',
                 **kwargs) -> None:
        super().__init__(in_channels=in_channels, channels=channels, num_classes=num_classes,
                         **kwargs)
        self.ema_linear = frozen_copy(self.linear)
        self.ema_nonlinear = frozen_copy(self.nonlinear) if self.nonlinear is not None else None
        pairs = {'ema_linear': 'linear'}
        if self.nonlinear is not None:
            pairs['ema_nonlinear'] = 'nonlinear'
        self.teacher = EMATeacher(pairs, ema_momentum, lag_owner=self)  # hp.md Q8
        self.project_head = nn.Linear(channels, channels)
        self.sigma = sigma
        self.loss_hp = MODELS.build(loss_hp or dict(type='HiddenPositiveLoss'))
        self.loss_consistency = (MODELS.build(loss_consistency)
                                 if loss_consistency is not None else None)
        self.aug_view = aug_view
        self.hp_lambda = 0.0
        self.register_buffer('pool_agnostic', torch.zeros(pool_size, in_channels))
        self.register_buffer('pool_specific', torch.zeros(pool_size, channels))
        self.register_buffer('pool_ready', torch.zeros((), dtype=torch.bool))

    @property
    def ema_momentum(self) -> float:
        """``m`` of the EMA copy."""
        return self.teacher.momentum

    @property
    def pool_size(self) -> int:
        return self.pool_agnostic.shape[0]

    @property
    def view_names(self) -> Tuple[str, ...]:
        """STEGO's views, plus the photometric view when the consistency loss is on."""
        aug = (self.aug_view, ) if self.loss_consistency is not None else ()
        return super().view_names + aug

    @torch.no_grad()
    def ema_code(self, feats: Tensor) -> Tensor:
        """EMA-head code with dropout on its inputs and output channels (3 masks)."""
        code = self.ema_linear(self.dropout(feats))
        if self.ema_nonlinear is not None:
            code = code + self.ema_nonlinear(self.dropout(feats))
        return self.dropout(code)

    def embed(self, code: Tensor) -> Tensor:
        """``project_head`` per patch: ``B×D×h×w`` → ``(B·h·w)×D`` (not normalised)."""
        return self.project_head(patch_rows(code))

    @torch.no_grad()
    def pool_candidates(self, inputs: BackboneOutput,
                        generator: Optional[torch.Generator] = None) -> Tuple[Tensor, Tensor]:
        """One random patch per image for each pool: (``F̃`` rows, EMA-code rows), unit norm.

        Positions are drawn independently for the two pools. Dropout follows
        the head's mode (HP builds pools in train mode).
        """
        feats = self.select_feature(inputs)
        return (random_patch_rows(self.dropout(feats), generator),
                random_patch_rows(self.ema_code(feats), generator))

    def set_pools(self, agnostic: Optional[Tensor] = None,
                  specific: Optional[Tensor] = None) -> None:
        """Replace one or both reference pools (``P×C_f`` / ``P×D`` unit rows)."""
        for name, value in (('pool_agnostic', agnostic), ('pool_specific', specific)):
            if value is None:
                continue
            buffer = getattr(self, name)
            if value.shape != buffer.shape:
                raise ValueError(f'{name} must be {tuple(buffer.shape)}, got '
                                 f'{tuple(value.shape)}.')
            buffer.copy_(value)
        if agnostic is not None and specific is not None:
            self.pool_ready.fill_(True)

    def method_loss(self, inputs: BackboneOutput, views: Views, code: Tensor,
                    data_samples: SampleList) -> Dict[str, Tensor]:
        """``loss_hp`` (GHP + LHP) and the optional consistency loss."""
        if not bool(self.pool_ready):
            raise RuntimeError('HPHead reference pools are empty: add ReferencePoolHook to '
                               'custom_hooks (it builds them before the first iteration).')
        losses = super().method_loss(inputs, views, code, data_samples)
        feats = self.select_feature(inputs)
        _, _, h, w = code.shape
        ema_code = self.ema_code(feats)
        weights = local_attention_weights(inputs.get('attn'), h, w, self.sigma)
        sizes = window_mask(h, w).sum(dim=1).to(code.device)
        code_loc = self.dropout(aggregate_local(code, weights, sizes))
        proj = self.embed(code)
        losses.update(self.loss_hp(patch_rows(self.dropped_feats(inputs)), patch_rows(ema_code),
                                   proj, self.embed(code_loc), self.pool_agnostic,
                                   self.pool_specific, self.hp_lambda, h * w))
        if self.loss_consistency is not None:
            proj_aug = self.embed(self(self.view(views, self.aug_view)))
            losses['loss_consistency'] = self.loss_consistency(proj, proj_aug)
        return losses
