"""A frozen backbone followed by a trained STEGO/HP head: the head's code as the feature map."""
import os.path as osp
from typing import Optional

from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType
from torch import Tensor

from ...utils.checkpoint_state import checkpoint_state_dict
from ..utils.backbone_output import BackboneOutput


def split_segmentor_state(state: dict, prefix: str) -> dict:
    """Entries of a segmentor state dict under ``prefix`` (e.g. ``'decode_head.'``), unprefixed."""
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


@MODELS.register_module()
class FrozenCodeBackbone(BaseModule):
    """``code = head(backbone(x))`` of a trained STEGO/HP model, used as a frozen backbone.

    PriMaPs-EM's "+STEGO"/"+HP" variants
    (docs/methods/primaps_em.md#variants-on-stego-and-hp) fit their prototypes
    to the SotA model's code instead of the DINO features. Both parts come from
    one ``tools/train.py`` checkpoint of a STEGO/HP config (``backbone.*`` and
    ``decode_head.*``); the head runs in eval mode (no dropout) once the
    segmentor freezes this module. The extras of the inner backbone (``attn``,
    ``qkv``, ``cls_token``) are passed on.

    Args:
        backbone: The inner backbone config (e.g. DINO ViT-B/8).
        head: The trained head's config (``StegoHead``/``HPHead``, same sizes).
        checkpoint: Path of the STEGO/HP training checkpoint.
        init_cfg: Initialisation config of the inner modules.
    """

    def __init__(self, backbone: ConfigType, head: ConfigType, checkpoint: Optional[str] = None,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.head = MODELS.build(head)
        self.checkpoint = checkpoint

    def init_weights(self) -> None:
        """Initialise the inner modules, then load the STEGO/HP checkpoint over them."""
        super().init_weights()
        if self.checkpoint is None:
            return
        if not osp.isfile(self.checkpoint):
            raise FileNotFoundError(f'STEGO/HP checkpoint {self.checkpoint!r} of '
                                    f'FrozenCodeBackbone does not exist.')
        state = checkpoint_state_dict(self.checkpoint)
        head_state = split_segmentor_state(state, 'decode_head.')
        needed = [k for k in self.head.state_dict() if k.startswith(('linear.', 'nonlinear.'))]
        missing = [k for k in needed if k not in head_state]
        if missing:
            raise KeyError(f'{self.checkpoint} has no trained head weights {missing} (expected '
                           f'decode_head.* of a StegoHead/HPHead checkpoint).')
        self.head.load_state_dict(head_state, strict=False)
        backbone_state = split_segmentor_state(state, 'backbone.')
        if backbone_state:
            self.backbone.load_state_dict(backbone_state)

    def forward(self, x: Tensor) -> BackboneOutput:
        feats = self.backbone(x)
        if not isinstance(feats, BackboneOutput):
            feats = BackboneOutput(feats)
        extras = {k: getattr(feats, k) for k in BackboneOutput.EXTRAS}
        return BackboneOutput([self.head(feats)], **extras)
