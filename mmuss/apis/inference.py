"""Segment your own images: build a model from config + checkpoint, run it on images."""
import copy
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config, ConfigDict
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS, TRANSFORMS
from mmseg.structures import SegDataSample
from torch import nn

from mmuss.models.utils.wiring import backbone_stride
from mmuss.utils.cfg_options import merge_cfg_options
from mmuss.utils.checkpoint import read_checkpoint
from mmuss.utils.cluster_matching import (check_matching, clusters_to_classes,
                                          load_matching_json, matching_from_checkpoint)

ImageInput = Union[str, Path, np.ndarray]
LABEL_TRANSFORMS = ('LoadAnnotations', 'LabelLUT')
# Evaluation-protocol crops: inference predicts the whole image.
PROTOCOL_CROPS = ('CenterCrop', 'CenterCropAsOriginal', 'mmcv.CenterCrop')
LOADING_TRANSFORMS = ('LoadImageFromFile', 'mmseg.LoadImageFromFile', 'mmcv.LoadImageFromFile')
PACKING_TRANSFORMS = ('PackSegInputs', 'mmseg.PackSegInputs')
# Checkpoint keys of training-only probes: present or not, inference does not use them.
OPTIONAL_KEY_PARTS = ('linear_probe', )


def batches_by_shape(shapes: Sequence[Tuple[int, ...]], batch_size: int) -> List[List[int]]:
    """Indices of ``shapes`` in batches of at most ``batch_size`` equal shapes.

    Groups keep the order of each shape's first appearance and, inside a
    group, the input order; no image is padded to another's size.
    """
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}.')
    groups: Dict[Tuple[int, ...], List[int]] = {}
    for index, shape in enumerate(shapes):
        groups.setdefault(tuple(shape), []).append(index)
    return [ids[i:i + batch_size] for ids in groups.values()
            for i in range(0, len(ids), batch_size)]


def init_model(config: Union[str, Path, Config],
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               cfg_options: Optional[dict] = None,
               matching: Optional[str] = None) -> nn.Module:
    """Build a segmentor for inference and load its checkpoint.

    The model gets ``cfg`` (the config), ``dataset_meta`` (the checkpoint's
    training-set meta, if any) and ``matching``: the cluster→class matching
    record stored in the checkpoint by :class:`ClusterMatchingHook`, or read
    from the JSON file ``matching`` when given (e.g. written by
    ``tools/test.py``), else ``None``.

    Args:
        config: Config file or object (its ``test_pipeline`` feeds inference).
        checkpoint: Checkpoint file; ``None`` keeps the initial weights.
        device: Torch device.
        cfg_options: Config overrides.
        matching: JSON matching file overriding the checkpoint's.

    Returns:
        The model in eval mode on ``device``.
    """
    if isinstance(config, (str, Path)):
        config = Config.fromfile(str(config))
    elif not isinstance(config, Config):
        raise TypeError(f'config must be a file name or a Config, got {type(config).__name__}.')
    else:
        config = copy.deepcopy(config)
    merge_cfg_options(config, cfg_options)
    config.model.pop('pretrained', None)
    config.model.train_cfg = None
    init_default_scope(config.get('default_scope', 'mmseg'))
    model = MODELS.build(config.model)
    model.cfg = config
    model.dataset_meta = None
    record = None
    if checkpoint is not None:
        ckpt = read_checkpoint(checkpoint)
        state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
        if not isinstance(state, dict):
            raise ValueError(f'{checkpoint} holds no state dict.')
        model.load_state_dict(inference_state_dict(model, state, checkpoint), strict=True)
        meta = ckpt.get('meta') or {}
        model.dataset_meta = meta.get('dataset_meta')
        record = matching_from_checkpoint(ckpt)
        if record is not None:
            record = check_matching(record, model_num_clusters(model), source=checkpoint)
            if matching is None and record.get('iter') not in (None, meta.get('iter')):
                warnings.warn(f'{checkpoint}: the stored matching comes from the evaluation at '
                              f'iteration {record.get("iter")}, the weights from iteration '
                              f'{meta.get("iter")}; class ids may be permuted.', stacklevel=2)
    if matching is not None:
        record = load_matching_json(matching, model_num_clusters(model))
    model.matching = record
    model.to(device)
    model.eval()
    return model


def inference_state_dict(model: nn.Module, state: Dict[str, torch.Tensor],
                         filename: str) -> Dict[str, torch.Tensor]:
    """``state`` without a DDP ``module.`` prefix and without optional probe keys.

    Keys of a training-only probe (e.g. ``decode_head.linear_probe.*`` from a
    config with ``linear_probe=True``) are dropped when the model has no such
    module; any other missing or unexpected key is a ``KeyError`` naming
    ``filename``.
    """
    state = {k.removeprefix('module.'): v for k, v in state.items()}
    expected = set(model.state_dict())
    optional = {k for k in set(state) - expected
                if any(part in OPTIONAL_KEY_PARTS for part in k.split('.'))}
    missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected - optional)
    if missing or unexpected:
        raise KeyError(f'Checkpoint {filename} does not match the model of the config: missing '
                       f'keys {missing[:20]}{" ..." if len(missing) > 20 else ""}, unexpected '
                       f'keys {unexpected[:20]}{" ..." if len(unexpected) > 20 else ""}.')
    return {k: v for k, v in state.items() if k not in optional}


def model_patch_size(model: nn.Module) -> Optional[int]:
    """The ViT patch size of the model's backbone (a :class:`FrozenCodeBackbone` states its
    inner one's), ``None`` for CNNs."""
    backbone = getattr(model, 'backbone', None)
    return None if backbone is None else backbone_stride(backbone)


def model_num_clusters(model: nn.Module) -> int:
    """Number of cluster logits the model predicts (its decode head's ``out_channels``)."""
    return int(model.decode_head.out_channels)


def inference_pipelines(cfg: Config,
                        patch_size: Optional[int] = None) -> Tuple[dict, List[dict]]:
    """The config's image-loading step and its remaining test transforms for inference.

    Label transforms and evaluation centre crops are left out (the whole image
    is predicted). With ``patch_size``, a :class:`CropToPatchMultiple` is put
    before the packing step unless the pipeline has one: the image is cropped
    to a multiple of the patch, as the official ViTs do, never zero-padded.
    """
    pipeline = cfg.get('test_pipeline')
    if pipeline is None:
        loader = cfg.get('test_dataloader') or {}
        pipeline = (loader.get('dataset') or {}).get('pipeline')
    if not pipeline:
        raise KeyError('The config has no test_pipeline (nor test_dataloader.dataset.pipeline) '
                       'to prepare images for inference.')
    steps = [dict(t) for t in pipeline
             if t.get('type') not in LABEL_TRANSFORMS + PROTOCOL_CROPS]
    load = steps.pop(0) if steps and steps[0].get('type') in LOADING_TRANSFORMS else dict(
        type='LoadImageFromFile')
    types = [t.get('type') for t in steps]
    if patch_size and 'CropToPatchMultiple' not in types:
        at = next((i for i, t in enumerate(types) if t in PACKING_TRANSFORMS), len(steps))
        steps.insert(at, dict(type='CropToPatchMultiple', size_divisor=patch_size))
    return load, steps


def check_finite(image: np.ndarray, name: str) -> None:
    """``ValueError`` naming ``name`` when a float image holds NaN or infinite values."""
    if np.issubdtype(image.dtype, np.floating):
        bad = int((~np.isfinite(image)).sum())
        if bad:
            raise ValueError(f'{name} holds {bad} non-finite (NaN/inf) values of {image.size}; '
                             f'a NaN pixel spreads through attention to the whole map. Fix or '
                             f'mask the input first.')


@contextmanager
def overridden_test_cfg(model: nn.Module, **overrides) -> Iterator[None]:
    """Temporarily set ``model.test_cfg`` keys (``None`` values are left unchanged)."""
    saved = model.test_cfg
    updated = ConfigDict(saved or {})
    updated.update({k: v for k, v in overrides.items() if v is not None})
    model.test_cfg = updated
    try:
        yield
    finally:
        model.test_cfg = saved


def image_name(image: ImageInput, index: int) -> str:
    """How messages name an input: its path, or its index and shape for an array."""
    if isinstance(image, np.ndarray):
        return f'image {index} (a {image.dtype} array of shape {image.shape})'
    return repr(str(image))


class _Preparer:
    """Turns an image file or array into one ``(inputs, data_sample)`` pair."""

    def __init__(self, cfg: Config, patch_size: Optional[int]) -> None:
        load, steps = inference_pipelines(cfg, patch_size)
        self.load_file = TRANSFORMS.build(load)
        self.load_array = TRANSFORMS.build(dict(type='LoadImageFromNDArray'))
        self.rest = Compose(steps)

    def __call__(self, image: ImageInput, name: str) -> dict:
        if isinstance(image, np.ndarray):
            check_finite(image, name)
            results = self.load_array(dict(img=image))
        else:
            try:
                results = self.load_file(dict(img_path=str(image)))
            except Exception as exc:  # decoders raise many types; all mean "unreadable"
                raise ValueError(f'Cannot read image {name}: {exc}') from exc
            if results is None:
                raise ValueError(f'Cannot read image {name}.')
            check_finite(results['img'], name)
        try:
            return self.rest(results)
        except ValueError as exc:
            raise ValueError(f'{name}: {exc}') from exc


def inference(model: nn.Module,
              images: Union[ImageInput, Sequence[ImageInput]],
              batch_size: int = 1,
              flip: Optional[bool] = None,
              crf: Union[None, bool, dict] = None) -> Union[SegDataSample, List[SegDataSample]]:
    """Segment images with a model from :func:`init_model`.

    Images (files, or ``H×W×3`` BGR arrays) go through the config's test
    pipeline (label transforms and evaluation centre crops removed); for a ViT
    the prepared image is cropped to a multiple of the patch size
    (:func:`inference_pipelines`). Images are batched ``batch_size`` at a time
    among images of equal prepared size and predicted at their original size.
    An unreadable image, a float image with NaN/inf values or one smaller
    than a patch raises ``ValueError`` naming it.

    Args:
        model: The model.
        images: One image or a sequence.
        batch_size: Images per forward pass.
        flip: Override ``test_cfg.flip`` (horizontal-flip averaging).
        crf: Override ``test_cfg.crf`` (``True``/a dict of CRF options).

    Returns:
        One ``SegDataSample`` per image (a single one for a single input) with
        ``pred_sem_seg`` (cluster ids, ``1×H×W``), ``seg_logits`` and, when the
        model has a matching, ``pred_class_sem_seg`` (class ids, ``255`` for
        unmatched clusters).
    """
    single = isinstance(images, (str, Path, np.ndarray))
    items = [images] if single else list(images)
    if getattr(model, 'cfg', None) is None:
        raise AttributeError(f'{type(model).__name__} has no cfg (its test_pipeline prepares the '
                             f'images): build the model with mmuss.apis.init_model.')
    prepare = _Preparer(model.cfg, model_patch_size(model))
    prepared = [prepare(item, image_name(item, index)) for index, item in enumerate(items)]
    results: List[Optional[SegDataSample]] = [None] * len(items)
    matching = getattr(model, 'matching', None)
    with overridden_test_cfg(model, flip=flip, crf=crf), torch.no_grad():
        for ids in batches_by_shape([p['inputs'].shape for p in prepared], batch_size):
            outputs = model.test_step(dict(inputs=[prepared[i]['inputs'] for i in ids],
                                           data_samples=[prepared[i]['data_samples']
                                                         for i in ids]))
            for i, out in zip(ids, outputs, strict=True):
                if matching is not None:
                    out.pred_class_sem_seg = PixelData(data=clusters_to_classes(
                        out.pred_sem_seg.data, matching['cluster_to_class']))
                results[i] = out
    return results[0] if single else results
