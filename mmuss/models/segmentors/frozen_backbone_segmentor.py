"""Encoder-decoder segmentor whose backbone is frozen, as in every USS method."""
from typing import Dict, List

import torch
import torch.nn.functional as F
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import OptSampleList, SampleList, add_prefix
from mmengine.structures import PixelData
from torch import Tensor

from ..decode_heads.base_uss_head import BaseUSSHead, Views
from ..utils.backbone_output import BackboneOutput
from ..utils.freeze import freeze_
from ..utils.images import unnormalise_images, view_inputs


def hflip_average(logits_fn, inputs: Tensor) -> Dict[str, Tensor]:
    """Average of ``logits_fn(x)`` and the flipped-back ``logits_fn(flip(x))``.

    ``logits_fn`` maps ``B×3×H×W`` images to named ``B×C×h×w`` maps whose
    width axis is aligned with the image's. For a flip-equivariant model the
    result equals ``logits_fn(x)`` exactly.
    """
    plain = logits_fn(inputs)
    flipped = logits_fn(inputs.flip(-1))
    return {k: (v + flipped[k].flip(-1)) / 2 for k, v in plain.items()}


@MODELS.register_module(name=['FrozenBackboneSegmentor', 'MultiViewSegmentor'])
class FrozenBackboneSegmentor(EncoderDecoder):
    """mmseg ``EncoderDecoder`` with a frozen backbone and cluster-id predictions.

    - The backbone never trains: its parameters have ``requires_grad=False``,
      it stays in eval mode whatever ``train()`` is called with, and it runs
      under ``torch.no_grad()`` so it holds no autograd memory.
    - Heads receive a :class:`BackboneOutput`: the feature maps plus the
      extras the backbone produces (attention, q/k/v, CLS) and the images.
    - Training: an mmuss head names the extra views of a sample it reads
      (:attr:`BaseUSSHead.view_names`: STEGO's KNN partner, HP's and
      PriMaPs-EM's photometric view). Each is a raw ``3×H×W`` data-sample
      field (:class:`PackMultiViewSegInputs`, :class:`KNNPairDataset`), is
      normalised like the input, encoded by the frozen backbone and passed as
      ``decode_head.loss(inputs, views, data_samples)``. Registered also as
      ``MultiViewSegmentor``, its former name for multi-view methods.
    - Predictions are cluster ids; ``seg_logits`` have ``num_clusters``
      channels. Heads exposing ``predict_logits`` may return further named
      logits (e.g. ``'linear'``), stored as ``pred_<name>_sem_seg`` so a second
      metric can score them.
    - ``test_cfg`` options: ``mode`` (``'whole'``/``'slide'`` with
      ``crop_size``/``stride``), ``flip`` (horizontal-flip averaging of the
      head's code before upsampling and probing), ``crf`` (dense CRF
      refinement of every output: ``True`` or a dict of
      :func:`batched_dense_crf` options such as ``num_workers``).

    Plain mmseg decode heads work too; they only produce ``'seg'``.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if 'extra_views' in (self.train_cfg or {}):
            raise ValueError('train_cfg.extra_views is no longer read: the decode head names '
                             'the views it needs (view_names); delete the key.')
        freeze_(self.backbone)

    def train(self, mode: bool = True) -> 'FrozenBackboneSegmentor':
        super().train(mode)
        self.backbone.eval()
        return self

    def extract_feat(self, inputs: Tensor) -> BackboneOutput:
        """Frozen backbone (no autograd) → optional neck → :class:`BackboneOutput`."""
        with torch.no_grad():
            feats = self.backbone(inputs)
        maps = self.neck(feats) if self.with_neck else feats
        return BackboneOutput.of(maps, extras_from=feats, images=inputs)

    def encode_views(self, inputs: Tensor, data_samples: SampleList) -> Views:
        """Frozen-backbone outputs of the views the head names, normalised like ``inputs``."""
        return {
            name: self.extract_feat(view_inputs(data_samples, name, inputs,
                                                self.data_preprocessor))
            for name in getattr(self.decode_head, 'view_names', ())
        }

    def _decode_head_forward_train(self, inputs: BackboneOutput,
                                   data_samples: SampleList) -> dict:
        """mmuss heads get their views; plain mmseg heads train as in mmseg."""
        if not isinstance(self.decode_head, BaseUSSHead):
            return super()._decode_head_forward_train(inputs, data_samples)
        views = self.encode_views(inputs.images, data_samples)
        return add_prefix(self.decode_head.loss(inputs, views, data_samples), 'decode')

    def code(self, inputs: Tensor) -> Tensor:
        """The head's per-pixel output at feature resolution for ``B×3×H×W`` inputs."""
        return self.decode_head.forward(self.extract_feat(inputs))

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """Cluster logits at the input size (mmseg contract)."""
        return self.dense_logits(inputs)['seg']

    def dense_logits(self, inputs: Tensor) -> Dict[str, Tensor]:
        """Named logits at the input size, as the USS references evaluate.

        For mmuss heads the code is (optionally) averaged with the
        flipped-back code of the flipped image at feature resolution, then
        bilinearly upsampled to the input size, and only then scored by the
        probes (STEGO §9.6, HP §8, PriMaPs A.8): cosine probes do not commute
        with averaging or upsampling, so the order matters. Plain mmseg heads
        have no code/probe split: their logits are averaged and upsampled.
        """
        head = self.decode_head
        size = inputs.shape[-2:]
        if not hasattr(head, 'logits_from_code'):
            def upsampled(x: Tensor) -> Dict[str, Tensor]:
                return {'seg': self.resize(head.forward(self.extract_feat(x)), size)}
            return hflip_average(upsampled, inputs) if self.test_cfg.get('flip') else upsampled(
                inputs)
        if self.test_cfg.get('flip', False):
            code = hflip_average(lambda x: {'code': self.code(x)}, inputs)['code']
        else:
            code = self.code(inputs)
        return head.logits_from_code(self.resize(code, size))

    def resize(self, maps: Tensor, size) -> Tensor:
        """Bilinear resize with the head's ``align_corners``."""
        return F.interpolate(maps, size=size, mode='bilinear', align_corners=self.align_corners)

    def slide_logits(self, inputs: Tensor) -> Dict[str, Tensor]:
        """Sliding-window inference over named logits (mmseg's ``slide_inference``)."""
        h_stride, w_stride = self.test_cfg['stride']
        h_crop, w_crop = self.test_cfg['crop_size']
        batch, _, h_img, w_img = inputs.shape
        h_grids = max(h_img - h_crop + h_stride - 1, 0) // h_stride + 1
        w_grids = max(w_img - w_crop + w_stride - 1, 0) // w_stride + 1
        sums: Dict[str, Tensor] = {}
        count = inputs.new_zeros((batch, 1, h_img, w_img))
        for h_idx in range(h_grids):
            for w_idx in range(w_grids):
                y2 = min(h_idx * h_stride + h_crop, h_img)
                x2 = min(w_idx * w_stride + w_crop, w_img)
                y1, x1 = max(y2 - h_crop, 0), max(x2 - w_crop, 0)
                for name, crop in self.dense_logits(inputs[:, :, y1:y2, x1:x2]).items():
                    pad = (x1, w_img - x2, y1, h_img - y2)
                    sums[name] = sums.get(name, 0) + F.pad(crop, pad)
                count[:, :, y1:y2, x1:x2] += 1
        return {k: v / count for k, v in sums.items()}

    def inference_logits(self, inputs: Tensor) -> Dict[str, Tensor]:
        """Named logits at the input size: whole/slide, flip, then optional CRF."""
        mode = self.test_cfg.get('mode', 'whole')
        if mode not in ('whole', 'slide'):
            raise ValueError(f"test_cfg.mode must be 'whole' or 'slide', got {mode!r}.")
        logits = self.slide_logits(inputs) if mode == 'slide' else self.dense_logits(inputs)
        crf_cfg = self.test_cfg.get('crf', False)
        if crf_cfg:
            logits = self.crf_refine(inputs, logits, {} if crf_cfg is True else dict(crf_cfg))
        return logits

    def crf_refine(self, inputs: Tensor, logits: Dict[str, Tensor],
                   crf_cfg: dict) -> Dict[str, Tensor]:
        """Dense-CRF refinement of every named output; returns log of the CRF marginals."""
        from ..utils.dense_crf import batched_dense_crf
        pre = self.data_preprocessor
        images = unnormalise_images(inputs, pre.mean, pre.std)
        return {
            k: batched_dense_crf(images, F.log_softmax(v, dim=1), **crf_cfg).clamp_min(
                1e-8).log().to(v) for k, v in logits.items()
        }

    def inference(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """Cluster logits at the input size (mmseg contract)."""
        return self.inference_logits(inputs)['seg']

    def predict(self, inputs: Tensor, data_samples: OptSampleList = None) -> SampleList:
        """Predict cluster ids (and any extra named outputs) for a batch."""
        if data_samples is None:
            data_samples = [
                SegDataSample(metainfo=dict(
                    ori_shape=inputs.shape[2:], img_shape=inputs.shape[2:],
                    pad_shape=inputs.shape[2:], padding_size=[0, 0, 0, 0]))
                for _ in range(inputs.shape[0])
            ]
        logits = self.inference_logits(inputs)
        extras = {k: v for k, v in logits.items() if k != 'seg'}
        data_samples = self.postprocess_result(logits['seg'], data_samples)
        for name, value in extras.items():
            for sample, pred in zip(data_samples, self.restore_to_original(value, data_samples)):
                sample.set_data(
                    {f'pred_{name}_sem_seg': PixelData(data=pred.argmax(0, keepdim=True))})
        return data_samples

    def restore_to_original(self, logits: Tensor, data_samples: SampleList) -> List[Tensor]:
        """Undo padding and flips, then resize each map to its original shape."""
        outputs = []
        for i, sample in enumerate(data_samples):
            meta = sample.metainfo
            pad = meta.get('padding_size', [0, 0, 0, 0])
            left, right, top, bottom = pad if pad is not None else (0, 0, 0, 0)
            h, w = logits.shape[-2:]
            logit = logits[i:i + 1, :, top:h - bottom, left:w - right]
            if meta.get('flip', False):
                axis = {'horizontal': 3, 'vertical': 2}[meta['flip_direction']]
                logit = logit.flip(dims=(axis, ))
            logit = F.interpolate(logit, size=meta['ori_shape'], mode='bilinear',
                                  align_corners=self.align_corners)
            outputs.append(logit[0])
        return outputs

    def _forward(self, inputs: Tensor, data_samples: OptSampleList = None) -> Tensor:
        """The head's code for ``inputs`` (mmseg's ``tensor`` mode)."""
        return self.decode_head.forward(self.extract_feat(inputs))

    def aug_test(self, inputs, batch_img_metas, rescale=True):
        raise NotImplementedError('Use test_cfg.flip=True for flip averaging.')
