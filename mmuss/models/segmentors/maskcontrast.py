"""MaskContrast (docs/methods/maskcontrast.md): MoCo pixel embeddings vs. mask prototypes."""
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.dist import all_gather, broadcast, get_rank, get_world_size
from mmengine.structures import PixelData
from mmseg.models.segmentors.base import BaseSegmentor
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig, OptSampleList, SampleList
from torch import Tensor

from ..losses.maskcontrast_loss import mask_prototypes
from ..utils.backbone_output import BackboneOutput
from ..utils.ema import EMATeacher, update_teachers
from ..utils.freeze import freeze_, frozen_copy
from ..utils.images import stack_field, view_inputs
from ..utils.wiring import pad_to_backbone_stride, with_in_channels


def saliency_weighted_prototypes(embeddings: Tensor, saliency_logits: Tensor,
                                 threshold: float = 0.5) -> Tensor:
    """Eval prototypes ``P = norm(Σ_p E(p)·s(p)·[s(p) > t])`` (docs/methods/maskcontrast.md eq. 8).

    ``E`` is the *unnormalised* embedding and ``s`` the raw saliency logit
    (docs/methods/maskcontrast.md Q5). No salient pixel gives the zero vector.

    Args:
        embeddings: ``B×D×H×W`` embeddings.
        saliency_logits: ``B×H×W`` logits.
        threshold: Logit threshold ``t`` (0.5).

    Returns:
        ``B×D`` prototypes.
    """
    weights = saliency_logits * (saliency_logits > threshold)
    return F.normalize(torch.einsum('bdhw,bhw->bd', embeddings, weights), dim=1)


def write_queue_(queue: Tensor, keys: Tensor, ptr: int) -> int:
    """Write ``keys`` into the queue's columns from ``ptr`` on; return the wrapped pointer.

    Args:
        queue: ``D×K`` queue, modified in place.
        keys: ``N×D`` new entries; ``K`` must be a multiple of ``N``.
        ptr: First column to overwrite (a multiple of ``N``).

    Returns:
        ``(ptr + N) mod K``.
    """
    num, size = keys.shape[0], queue.shape[1]
    if size % num:
        raise ValueError(f'queue_size={size} must be a multiple of the global batch size {num} '
                         f'(per-GPU batch × number of processes).')
    queue[:, ptr:ptr + num] = keys.T
    return (ptr + num) % size


def gather_across_ranks(x: Tensor) -> Tensor:
    """Concatenate ``x`` from every rank in rank order (``x`` itself without DDP)."""
    if get_world_size() == 1:
        return x
    return torch.cat(all_gather(x.contiguous()))


def shuffle_across_ranks(x: Tensor) -> Tuple[Tensor, Optional[Tensor]]:
    """Shuffle-BN input: a random slice of the batch gathered from all ranks.

    Every rank gets ``B`` images of the global batch permuted by one
    permutation drawn on rank 0. Returns the local slice and the inverse
    permutation (``None`` without DDP, where nothing is shuffled).
    """
    world = get_world_size()
    if world == 1:
        return x, None
    gathered = gather_across_ranks(x)
    perm = torch.randperm(gathered.shape[0], device=x.device)
    broadcast(perm, src=0)
    return gathered[perm.view(world, -1)[get_rank()]], torch.argsort(perm)


def unshuffle_across_ranks(x: Tensor, inverse: Optional[Tensor]) -> Tensor:
    """Undo :func:`shuffle_across_ranks` on its outputs: each rank gets back its own images'."""
    if inverse is None:
        return x
    return gather_across_ranks(x)[inverse.view(get_world_size(), -1)[get_rank()]]


def restore_mask(mask: Tensor, meta: dict) -> Tensor:
    """An ``H×W`` mask at network-input size → original image size.

    Removes padding, undoes a test-time flip and resizes with nearest neighbour
    (docs/methods/maskcontrast.md eq. 11). mmseg's ``postprocess_result``
    cannot do this: it resizes logits bilinearly before thresholding.
    """
    left, right, top, bottom = meta.get('padding_size') or (0, 0, 0, 0)
    height, width = mask.shape
    mask = mask[top:height - bottom, left:width - right]
    if meta.get('flip', False):
        mask = mask.flip(dims=(1 if meta['flip_direction'] == 'horizontal' else 0, ))
    size = tuple(meta.get('ori_shape', mask.shape))[:2]
    return F.interpolate(mask[None, None].float(), size=size, mode='nearest')[0, 0].to(mask.dtype)


@MODELS.register_module()
class MaskContrast(BaseSegmentor):
    """Query/key pixel-embedding encoders trained against salient-mask prototypes.

    Training (docs/methods/maskcontrast.md eqs. 1–7): the query encoder
    (``backbone`` + ``decode_head``, a :class:`MaskContrastHead`) embeds the
    query view; the key encoder, a momentum copy updated at the start of every
    training step but the first by ``θ_k ← m·θ_k + (1−m)·θ_q``
    (:class:`EMATeacher` ``teacher``; parameters only, no gradients, train
    mode), embeds the key view, whose salient pixels give one prototype
    per image. The loss module (:class:`MaskContrastLoss`) contrasts every
    salient query pixel against the batch prototypes and the queue. Afterwards
    the prototypes of *all* ranks are enqueued (the queue and its pointer are
    buffers, so they are checkpointed). Under DDP the key forward uses
    shuffle-BN across ranks; in a single process there is nothing to shuffle
    and the key BN uses the local batch statistics.

    A ``decode_head`` without ``in_channels`` gets the backbone's width and a
    data preprocessor with neither ``size`` nor ``size_divisor`` pads to its
    patch size (:mod:`mmuss.models.utils.wiring`).

    With ``freeze_backbone=True`` (the DINO-backbone variant) the backbone is
    frozen and shared by both encoders; only the head has a momentum copy.

    Prediction (docs/methods/maskcontrast.md eqs. 8, 11): ``pred_sem_seg`` is
    the predicted saliency ``s > 0.5`` at the original size (nearest), and
    ``mask_embedding`` the image's saliency-weighted prototype, which
    :class:`MaskKMeansMetric` clusters.

    Args:
        backbone: Backbone config (dilated ResNet-50 or a DINO ViT).
        decode_head: :class:`MaskContrastHead` config.
        loss_cfg: Loss config (default :class:`MaskContrastLoss` with T = 0.5).
        queue_size: ``K_q`` (128 / 256); a multiple of the global batch.
        momentum: ``m`` (0.999).
        freeze_backbone: Freeze and share the backbone.
        saliency_threshold: Logit threshold of predicted saliency (0.5).
        train_cfg: Unused; kept for mmseg's segmentor signature.
        test_cfg: Unused; kept for mmseg's segmentor signature.
        data_preprocessor: :class:`SegDataPreProcessor` config.
        init_cfg: Initialisation config.
    """

    def __init__(self,
                 backbone: ConfigType,
                 decode_head: ConfigType,
                 loss_cfg: OptConfigType = None,
                 queue_size: int = 128,
                 momentum: float = 0.999,
                 freeze_backbone: bool = False,
                 saliency_threshold: float = 0.5,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f'momentum must be in [0, 1], got {momentum}.')
        self.backbone = MODELS.build(backbone)
        self.decode_head = MODELS.build(
            with_in_channels(decode_head, self.backbone, 'model.decode_head'))
        pad_to_backbone_stride(self.data_preprocessor, self.backbone)
        self.loss_module = MODELS.build(loss_cfg or dict(type='MaskContrastLoss'))
        self.freeze_backbone = freeze_backbone
        self.saliency_threshold = saliency_threshold
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        if freeze_backbone:
            freeze_(self.backbone)
            self.key_backbone = None
        else:
            self.key_backbone = frozen_copy(self.backbone)
        self.key_head = frozen_copy(self.decode_head)
        pairs = {'key_head': 'decode_head'}
        if self.key_backbone is not None:
            pairs['key_backbone'] = 'backbone'
        self.teacher = EMATeacher(pairs, momentum)
        embed_dims = self.decode_head.embed_dims
        self.register_buffer('queue', F.normalize(torch.randn(embed_dims, queue_size), dim=0))
        self.register_buffer('queue_ptr', torch.zeros((), dtype=torch.long))

    def init_weights(self) -> None:
        """Initialise the query encoder, then start the key encoder as its copy."""
        super().init_weights()
        if self.key_backbone is not None:
            self.key_backbone.load_state_dict(self.backbone.state_dict())
        self.key_head.load_state_dict(self.decode_head.state_dict())

    def train(self, mode: bool = True) -> 'MaskContrast':
        super().train(mode)
        if self.freeze_backbone:
            self.backbone.eval()
        return self

    def extract_feat(self, inputs: Tensor) -> BackboneOutput:
        """Query backbone features (without autograd when the backbone is frozen)."""
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.freeze_backbone):
            feats = self.backbone(inputs)
        return BackboneOutput.of(feats)

    def query_outputs(self, inputs: Tensor) -> Tuple[Tensor, Tensor]:
        """Unnormalised embeddings ``B×D×H×W`` and saliency logits ``B×H×W`` at input size."""
        code = self.decode_head(self.extract_feat(inputs))
        size = inputs.shape[-2:]
        emb = F.interpolate(self.decode_head.embed(code), size=size, mode='bilinear',
                            align_corners=False)
        sal = F.interpolate(self.decode_head.saliency(code)[:, None], size=size,
                            mode='bilinear', align_corners=False)[:, 0]
        return emb, sal

    @property
    def momentum(self) -> float:
        """``m`` of the key encoder."""
        return self.teacher.momentum

    @torch.no_grad()
    def key_embeddings(self, images: Tensor) -> Tensor:
        """Unit key embeddings ``B×D×H×W`` (shuffle-BN under DDP)."""
        shuffled, inverse = shuffle_across_ranks(images)
        backbone = self.backbone if self.key_backbone is None else self.key_backbone
        feats = BackboneOutput.of(backbone(shuffled))
        emb = unshuffle_across_ranks(self.key_head.embed(self.key_head(feats)), inverse)
        emb = F.interpolate(emb, size=images.shape[-2:], mode='bilinear', align_corners=False)
        return F.normalize(emb, dim=1)

    @torch.no_grad()
    def enqueue(self, prototypes: Tensor) -> None:
        """Append every rank's key prototypes to the queue (pointer wraps)."""
        keys = gather_across_ranks(prototypes)
        self.queue_ptr.fill_(write_queue_(self.queue, keys, int(self.queue_ptr)))

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """MaskContrast losses for a batch of query views; updates key encoder and queue."""
        update_teachers(self)
        fix = ('the training pipeline needs LoadSaliencyMask, MaskContrastViews and '
               "PackMultiViewSegInputs(pixel_keys=['gt_saliency', 'gt_key_saliency']).")
        query_masks = stack_field(data_samples, 'gt_saliency', fix).to(inputs.device)
        key_masks = stack_field(data_samples, 'gt_key_saliency', fix).to(inputs.device)
        keys = view_inputs(data_samples, 'key_img', inputs, self.data_preprocessor)
        emb, sal = self.query_outputs(inputs)
        prototypes = mask_prototypes(self.key_embeddings(keys), key_masks)
        losses = self.loss_module(F.normalize(emb, dim=1), sal, query_masks, prototypes,
                                  self.queue.clone())
        self.enqueue(prototypes)
        return losses

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """Saliency logits ``B×1×H×W`` at input size (mmseg contract)."""
        return self.query_outputs(inputs)[1][:, None]

    def predict(self, inputs: Tensor, data_samples: OptSampleList = None) -> SampleList:
        """Predicted saliency masks (original size) and per-image mask embeddings."""
        emb, sal = self.query_outputs(inputs)
        prototypes = saliency_weighted_prototypes(emb, sal, self.saliency_threshold)
        masks = (sal > self.saliency_threshold).to(torch.uint8)
        if data_samples is None:
            data_samples = [SegDataSample(metainfo=dict(ori_shape=inputs.shape[2:]))
                            for _ in range(inputs.shape[0])]
        for i, sample in enumerate(data_samples):
            sample.pred_sem_seg = PixelData(data=restore_mask(masks[i], sample.metainfo)[None])
            sample.set_data(dict(mask_embedding=prototypes[i]))
        return data_samples

    def _forward(self, inputs: Tensor, data_samples: OptSampleList = None) -> Tensor:
        """Unnormalised query embeddings at input size (mmseg's ``tensor`` mode)."""
        return self.query_outputs(inputs)[0]

