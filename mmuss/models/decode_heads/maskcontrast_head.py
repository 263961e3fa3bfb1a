"""MaskContrast's torchvision-style DeepLab-v3 head with embedding and saliency outputs."""
from typing import Dict, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model.weight_init import normal_init
from mmseg.models.decode_heads.aspp_head import ASPPModule
from mmseg.registry import MODELS
from mmseg.utils import OptConfigType
from torch import Tensor

from ..utils.backbone_output import BackboneOutput
from ..utils.freeze import freeze_
from .base_uss_head import BaseUSSHead


class _DefaultInitConv2d(nn.Conv2d):
    """``nn.Conv2d`` that keeps PyTorch's default initialisation inside a ``ConvModule``.

    ``ConvModule`` re-initialises its convolution with kaiming fan-out unless
    the convolution has its own ``init_weights``; this one's keeps the
    construction-time weights (``kaiming_uniform_(a=√5)``: ``U(±1/√fan_in)``),
    as the reference's torchvision DeepLab head has them.
    """

    def init_weights(self) -> None:
        """Keep PyTorch's default initialisation."""


def aspp_features(x: Tensor, image_pool: nn.Module, branches: nn.Module) -> Tensor:
    """Concatenated ASPP branches in torchvision's order: the convolutions, then image pooling.

    ``[b_1(x), …, b_n(x), up(pool(x))]`` along channels; ``up`` is bilinear
    (``align_corners=False``) back to ``x``'s grid.

    Args:
        x: ``B×C×h×w`` features.
        image_pool: Global average pool + 1×1 conv module.
        branches: mmseg :class:`ASPPModule` (returns a list of maps).

    Returns:
        ``B×(n+1)·channels×h×w``.
    """
    pooled = F.interpolate(image_pool(x), size=x.shape[-2:], mode='bilinear', align_corners=False)
    return torch.cat([*branches(x), pooled], dim=1)


@MODELS.register_module()
class MaskContrastHead(BaseUSSHead):
    """DeepLab-v3 head of MaskContrast (docs/methods/maskcontrast.md) on mmseg building blocks.

    ``x → ASPP(1×1, 3×3 at each rate, image pool) → 1×1 projection + BN + ReLU
    + Dropout → 3×3 conv + BN + ReLU`` gives the ``channels``-wide code (the
    256-d map the linear probe reads); from it a 1×1 conv with
    bias gives the ``embed_dims`` pixel embedding and a bias-free 1×1 conv the
    saliency logit. Every convolution keeps PyTorch's default initialisation
    (:class:`_DefaultInitConv2d`), as in the reference. Unlike mmseg's
    ``ASPPHead`` the concatenation is projected by a 1×1 conv followed by
    dropout and a separate 3×3 conv.

    With ``frozen=True`` (linear-probe evaluation) everything but the probes
    is frozen and kept in eval mode (BN statistics and dropout off), as the
    reference does while training its probe.

    Args:
        in_channels: Backbone width (2048 for ResNet-50).
        channels: Code width (256).
        embed_dims: Pixel-embedding width (32).
        dilations: ASPP branch dilations; 1 gives the 1×1 branch.
        dropout_ratio: Dropout after the projection (0.5).
        num_classes: Classes of the optional linear probe (21 on VOC).
        norm_cfg: Norm layers (default BN).
        act_cfg: Activations (default ReLU).
        frozen: Freeze everything except the probes.
        cluster_probe: See :class:`BaseUSSHead` (off by default).
        linear_probe: See :class:`BaseUSSHead` (off by default).
        **kwargs: Further :class:`BaseUSSHead` arguments.
    """

    def __init__(self,
                 in_channels: int = 2048,
                 channels: int = 256,
                 embed_dims: int = 32,
                 dilations: Sequence[int] = (1, 12, 24, 36),
                 dropout_ratio: float = 0.5,
                 num_classes: int = 21,
                 norm_cfg: OptConfigType = None,
                 act_cfg: OptConfigType = None,
                 frozen: bool = False,
                 cluster_probe: bool = False,
                 linear_probe: bool = False,
                 init_cfg: OptConfigType = None,
                 **kwargs) -> None:
        super().__init__(in_channels=in_channels, channels=channels, num_classes=num_classes,
                         cluster_probe=cluster_probe, linear_probe=linear_probe,
                         init_cfg=init_cfg, **kwargs)
        self.embed_dims = embed_dims
        self.frozen = frozen
        # PyTorch's default conv initialisation, as the reference (docs/methods/maskcontrast.md)
        conv = dict(conv_cfg=dict(type=_DefaultInitConv2d),
                    norm_cfg=norm_cfg or dict(type='BN', requires_grad=True),
                    act_cfg=act_cfg or dict(type='ReLU'))
        self.image_pool = nn.Sequential(nn.AdaptiveAvgPool2d(1),
                                        ConvModule(in_channels, channels, 1, **conv))
        self.aspp_modules = ASPPModule(tuple(dilations), in_channels, channels, **conv)
        self.project = ConvModule((len(dilations) + 1) * channels, channels, 1, **conv)
        self.dropout = nn.Dropout(dropout_ratio)
        self.bottleneck = ConvModule(channels, channels, 3, padding=1, **conv)
        self.conv_embed = nn.Conv2d(channels, embed_dims, 1, bias=True)
        self.conv_saliency = nn.Conv2d(channels, 1, 1, bias=False)
        if frozen:
            for name, module in self.named_children():
                if name not in ('cluster_probe', 'linear_probe'):
                    freeze_(module)

    def init_weights(self) -> None:
        """mmengine initialisation, then the probe's N(0, 0.01) weights."""
        super().init_weights()
        if self.linear_probe is not None:
            normal_init(self.linear_probe.conv, mean=0, std=0.01, bias=0)

    def train(self, mode: bool = True) -> 'MaskContrastHead':
        super().train(mode)
        if self.frozen:
            for name, module in self.named_children():
                if name not in ('cluster_probe', 'linear_probe'):
                    module.eval()
        return self

    def forward(self, inputs: BackboneOutput) -> Tensor:
        """Backbone output → ``B×channels×h×w`` code."""
        x = self.select_feature(inputs)
        x = self.dropout(self.project(aspp_features(x, self.image_pool, self.aspp_modules)))
        return self.bottleneck(x)

    def embed(self, code: Tensor) -> Tensor:
        """Code → ``B×embed_dims×h×w`` (unnormalised) pixel embedding."""
        return self.conv_embed(code)

    def saliency(self, code: Tensor) -> Tensor:
        """Code → ``B×h×w`` saliency logits."""
        return self.conv_saliency(code)[:, 0]

    def logits_from_code(self, code: Tensor) -> Dict[str, Tensor]:
        """The linear probe's class logits as ``'seg'`` when it exists, else the cluster probe's."""
        if self.linear_probe is not None and self.cluster_probe is None:
            return {'seg': self.linear_probe(code)}
        return super().logits_from_code(code)
