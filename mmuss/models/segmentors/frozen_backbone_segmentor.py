"""Encoder-decoder segmentor whose backbone is frozen, as in every USS method."""
from typing import Callable, Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import ConfigType, OptSampleList, SampleList, add_prefix
from torch import Tensor

from ..decode_heads.base_uss_head import BaseUSSHead, Views
from ..utils.backbone_output import BackboneOutput
from ..utils.ema import update_teachers
from ..utils.freeze import freeze_
from ..utils.images import PixelNormaliser, view_inputs
from ..utils.precision import float32_precision
from ..utils.wiring import pad_to_backbone_stride, with_in_channels


def hflip_average(maps_fn: Callable[[Tensor], Tensor], inputs: Tensor) -> Tensor:
    """``(f(x) + flip(f(flip(x)))) / 2`` for ``f`` mapping ``B×3×H×W`` images to width-aligned
    ``B×C×h×w`` maps; exactly ``f(x)`` for a flip-equivariant ``f``."""
    return (maps_fn(inputs) + maps_fn(inputs.flip(-1)).flip(-1)) / 2


def plain_meta(inputs: Tensor) -> dict:
    """The metainfo of an unpadded, unflipped input (mmseg's default in ``predict``)."""
    return dict(ori_shape=inputs.shape[2:], img_shape=inputs.shape[2:],
                pad_shape=inputs.shape[2:], padding_size=[0, 0, 0, 0])


@MODELS.register_module()
class FrozenBackboneSegmentor(EncoderDecoder):
    """mmseg ``EncoderDecoder`` with a frozen backbone and cluster-id predictions.

    - The backbone never trains: its parameters have ``requires_grad=False``,
      it stays in eval mode whatever ``train()`` is called with, and it runs
      under ``torch.no_grad()`` so it holds no autograd memory.
    - Heads receive a :class:`BackboneOutput`: the feature maps plus the
      extras the backbone produces (attention, q/k/v, CLS). A head whose
      :attr:`BaseUSSHead.needs_images` is true also gets the input images as
      uint8 in network channel order (``images=``, e.g. for CRF proposals).
    - Training: an mmuss head names the extra views of a sample it reads
      (:attr:`BaseUSSHead.view_names`: STEGO's KNN partner, HP's and
      PriMaPs-EM's photometric view). Each is a raw ``3×H×W`` data-sample
      field (:class:`PackMultiViewSegInputs`, :class:`KNNPairDataset`), is
      normalised like the input, encoded by the frozen backbone and passed as
      ``decode_head.loss(inputs, views, data_samples)``.
    - Predictions are cluster ids; ``seg_logits`` have ``num_clusters``
      channels. A head's ``logits_from_code`` may return further named logits
      (e.g. ``'linear'``), stored as ``pred_<name>_sem_seg`` so a second
      metric can score them. mmseg's own whole/slide inference and
      ``postprocess_result`` run on them; flip averaging and the CRF are the
      USS-specific steps around them.
    - ``test_cfg`` options: ``mode`` (``'whole'``/``'slide'`` with
      ``crop_size``/``stride``), ``flip`` (horizontal-flip averaging of the
      head's code before upsampling and probing), ``crf`` (dense CRF
      refinement of every output: ``True`` or a dict of
      :func:`batched_dense_crf` options such as ``num_workers``).

    - Sizes from the backbone (:mod:`mmuss.models.utils.wiring`): without a
      neck, a ``decode_head`` config without ``in_channels`` gets the
      backbone's width, and a data preprocessor with neither ``size`` nor
      ``size_divisor`` pads to the backbone's patch size.

    Plain mmseg decode heads work too; they only produce ``'seg'``.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        freeze_(self.backbone)
        pad_to_backbone_stride(self.data_preprocessor, self.backbone)
        self.test_cfg = ConfigDict(self.test_cfg or {})  # mmseg's inference reads attributes

    def _init_decode_head(self, decode_head: ConfigType) -> None:
        """Build the head, with the backbone's width as ``in_channels`` unless set (no neck)."""
        if not self.with_neck:
            decode_head = with_in_channels(decode_head, self.backbone, 'model.decode_head')
        super()._init_decode_head(decode_head)

    def train(self, mode: bool = True) -> 'FrozenBackboneSegmentor':
        super().train(mode)
        self.backbone.eval()
        return self

    @property
    def pixels(self) -> PixelNormaliser:
        """Raw images ↔ network inputs, as the data preprocessor normalises."""
        return PixelNormaliser.of(self.data_preprocessor)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Training losses; the momentum teachers first catch up with the last optimiser step.

        mmuss heads get the views they name (and the images if they need them);
        plain mmseg heads train as in mmseg.
        """
        update_teachers(self)
        feats = self.extract_feat(inputs)
        head = self.decode_head
        if isinstance(head, BaseUSSHead):
            images = self.pixels.unnormalise(inputs) if head.needs_images else None
            losses = add_prefix(head.loss(feats, self.encode_views(inputs, data_samples),
                                          data_samples, images=images), 'decode')
        else:
            losses = self._decode_head_forward_train(feats, data_samples)
        if self.with_auxiliary_head:
            losses.update(self._auxiliary_head_forward_train(feats, data_samples))
        return losses

    def extract_feat(self, inputs: Tensor) -> BackboneOutput:
        """Frozen backbone (no autograd) → optional neck → :class:`BackboneOutput`."""
        with torch.no_grad():
            feats = self.backbone(inputs)
        maps = self.neck(feats) if self.with_neck else feats
        return BackboneOutput.of(maps, extras_from=feats)

    def encode_views(self, inputs: Tensor, data_samples: SampleList) -> Views:
        """Frozen-backbone outputs of the views the head names, normalised like ``inputs``."""
        return {
            name: self.extract_feat(view_inputs(data_samples, name, inputs,
                                                self.data_preprocessor))
            for name in getattr(self.decode_head, 'view_names', ())
        }

    def named_logits(self, inputs: Tensor) -> Dict[str, Tensor]:
        """Named logits of ``B×3×H×W`` inputs at the input size, as the USS references evaluate.

        For mmuss heads the code is (optionally) averaged with the
        flipped-back code of the flipped image at feature resolution, then
        bilinearly upsampled to the input size, and only then scored by the
        probes (STEGO, HP and PriMaPs evaluate so): cosine probes do not
        commute with averaging or upsampling, so the order matters. For plain
        mmseg heads the "code" is their logits.
        """
        flip = self.test_cfg.get('flip', False)
        code = hflip_average(self._forward, inputs) if flip else self._forward(inputs)
        return self.code_logits(code, inputs.shape[-2:])

    @float32_precision
    def code_logits(self, code: Tensor, size: Tuple[int, int]) -> Dict[str, Tensor]:
        """The code upsampled to ``size`` and probed, in float32 also under autocast: these
        logits' argmax is what the Hungarian matching scores."""
        code = self.resize(code, size)
        head = self.decode_head
        return head.logits_from_code(code) if isinstance(head, BaseUSSHead) else {'seg': code}

    def resize(self, maps: Tensor, size) -> Tensor:
        """Bilinear resize with the head's ``align_corners``."""
        return resize(maps, size=size, mode='bilinear', align_corners=self.align_corners)

    def named_channels(self) -> Dict[str, int]:
        """Channels of each output of :meth:`named_logits`, in order (from a one-pixel code)."""
        head = self.decode_head
        if not isinstance(head, BaseUSSHead):
            return {'seg': head.out_channels}
        code = next(head.parameters()).new_zeros(1, head.channels, 1, 1)
        with torch.no_grad():
            return {k: v.shape[1] for k, v in head.logits_from_code(code).items()}

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """All outputs of :meth:`named_logits` concatenated along channels, so mmseg's
        whole/slide inference serves them in one backbone pass (:meth:`inference_logits`)."""
        return torch.cat(list(self.named_logits(inputs).values()), dim=1)

    def inference_logits(self, inputs: Tensor,
                         batch_img_metas: Optional[List[dict]] = None) -> Dict[str, Tensor]:
        """Named logits at the input size: mmseg's whole/slide inference, then optional CRF."""
        mode = self.test_cfg.get('mode', 'whole')
        if mode not in ('whole', 'slide'):
            raise ValueError(f"test_cfg.mode must be 'whole' or 'slide', got {mode!r}.")
        metas = [{**plain_meta(inputs), **m} for m in batch_img_metas or [{}] * inputs.shape[0]]
        channels = self.named_channels()
        out_channels, self.out_channels = self.out_channels, sum(channels.values())
        try:
            stacked = super().inference(inputs, metas)
        finally:
            self.out_channels = out_channels
        logits = dict(zip(channels, stacked.split(list(channels.values()), dim=1)))
        crf_cfg = self.test_cfg.get('crf', False)
        if crf_cfg:
            logits = self.crf_refine(inputs, logits, {} if crf_cfg is True else dict(crf_cfg))
        return logits

    def crf_refine(self, inputs: Tensor, logits: Dict[str, Tensor],
                   crf_cfg: dict) -> Dict[str, Tensor]:
        """Dense-CRF refinement of every named output; returns log of the CRF marginals."""
        from ..utils.dense_crf import batched_dense_crf
        images = self.pixels.unnormalise(inputs)
        return {
            k: batched_dense_crf(images, F.log_softmax(v, dim=1), **crf_cfg).clamp_min(
                1e-8).log().to(v) for k, v in logits.items()
        }

    def inference(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """Cluster logits at the input size (mmseg contract)."""
        return self.inference_logits(inputs, batch_img_metas)['seg']

    def predict(self, inputs: Tensor, data_samples: OptSampleList = None) -> SampleList:
        """Cluster ids as ``pred_sem_seg`` and each further output as ``pred_<name>_sem_seg``.

        mmseg's ``postprocess_result`` removes padding, undoes flips and
        resizes every named output to the original image size.
        """
        if data_samples is None:
            data_samples = [SegDataSample(metainfo=plain_meta(inputs)) for _ in inputs]
        logits = self.inference_logits(inputs, [s.metainfo for s in data_samples])
        data_samples = self.postprocess_result(logits.pop('seg'), data_samples)
        for name, value in logits.items():
            extra = self.postprocess_result(
                value, [SegDataSample(metainfo=s.metainfo) for s in data_samples])
            for sample, result in zip(data_samples, extra):
                sample.set_data({f'pred_{name}_sem_seg': result.pred_sem_seg})
        return data_samples

    def aug_test(self, inputs, batch_img_metas, rescale=True):
        raise NotImplementedError('Use test_cfg.flip=True for flip averaging.')
