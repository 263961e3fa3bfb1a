"""A frozen backbone followed by a trained head (STEGO, HP, CAUSE): its code as the feature map."""
from typing import Optional

from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType
from torch import Tensor

from ...utils.checkpoint import checkpoint_state_dict, resolve_checkpoint, state_under_prefix
from ..utils.backbone_output import BackboneOutput
from ..utils.wiring import backbone_stride, with_in_channels


@MODELS.register_module()
class FrozenCodeBackbone(BaseModule):
    """``code = head(backbone(x))`` of a trained model, used as a frozen backbone.

    PriMaPs-EM's "+STEGO"/"+HP" variants
    (docs/methods/primaps_em.md#variants-on-stego-and-hp), and the same on
    CAUSE-TR, fit their prototypes to the SotA model's code instead of the
    DINO features. Both parts come from one ``tools/train.py`` checkpoint
    (``backbone.*`` and ``decode_head.*``); the head runs in eval mode (no
    dropout) once the segmentor freezes this module. The extras of the inner
    backbone (``attn``, ``qkv``, ``cls_token``) are passed on.

    The checkpoint must hold every head entry under the head's
    ``code_state_prefixes`` (:class:`BaseUSSHead`: STEGO/HP ``linear.*``,
    ``nonlinear.*``; CAUSE ``head_ema.*`` and the clusterbook). It is
    memory-mapped and only the head's own entries are read, so a CAUSE
    step-2 checkpoint's concept bank is not loaded when the head is built
    with ``front_door=False``.

    Its width (``map_channels``) is the head's code width (``channels``) and
    its ``patch_size`` the inner backbone's, so the outer model takes them
    from here (:mod:`mmuss.models.utils.wiring`); a head config without
    ``in_channels`` gets the inner backbone's width.

    Args:
        backbone: The inner backbone config (e.g. DINO ViT-B/8).
        head: The trained head's config (same type and sizes as in training).
        checkpoint: The training checkpoint: a file, a glob matching one (a best
            checkpoint) or the run's work dir (its last checkpoint).
        init_cfg: Initialisation config of the inner modules.
    """

    def __init__(self, backbone: ConfigType, head: ConfigType, checkpoint: Optional[str] = None,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.head = MODELS.build(with_in_channels(head, self.backbone, 'model.backbone.head'))
        self.head.code_state_keys()  # refuses a head without code_state_prefixes now
        self.checkpoint = checkpoint

    @property
    def map_channels(self) -> int:
        """The code width: the channels of :meth:`forward`'s map."""
        return self.head.channels

    @property
    def patch_size(self) -> Optional[int]:
        """The inner backbone's patch size."""
        return backbone_stride(self.backbone)

    def init_weights(self) -> None:
        """Initialise the inner modules, then load the checkpoint over them."""
        super().init_weights()
        if self.checkpoint is None:
            return
        head_type = type(self.head).__name__
        path = resolve_checkpoint(self.checkpoint,
                                  f'FrozenCodeBackbone ({head_type} run, sota_checkpoint)')
        state = checkpoint_state_dict(path, mmap=True)
        own = self.head.state_dict().keys()
        head_state = {k: v for k, v in state_under_prefix(state, 'decode_head.').items()
                      if k in own}
        backbone_state = state_under_prefix(state, 'backbone.')
        del state
        missing = [k for k in self.head.code_state_keys() if k not in head_state]
        if missing:
            more = f' and {len(missing) - 10} more' if len(missing) > 10 else ''
            raise KeyError(f'{path} has no trained head weights {missing[:10]}{more} '
                           f'(expected decode_head.* of a {head_type} checkpoint: '
                           f'FrozenCodeBackbone needs its entries under '
                           f'{self.head.code_state_prefixes}).')
        self.head.load_state_dict(head_state, strict=False)
        if backbone_state:
            self.backbone.load_state_dict(backbone_state)

    def forward(self, x: Tensor) -> BackboneOutput:
        feats = self.backbone(x)
        if not isinstance(feats, BackboneOutput):
            feats = BackboneOutput(feats)
        extras = {k: getattr(feats, k) for k in BackboneOutput.EXTRAS}
        return BackboneOutput([self.head(feats)], **extras)
