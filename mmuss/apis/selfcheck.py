"""Self-check of an install: each method's shipped config trains, validates and predicts.

:func:`run_selfcheck` is what ``tools/selfcheck.py`` runs. For every method it
takes the method's representative shipped config as it is (crop size, batch
size, head, optimiser, precision) except for the data and the weights:

- images are synthesised in memory (:func:`synthetic_scene`) and go through
  the config's own train and val pipelines from the loading step on; the
  artefacts a method reads from an earlier step are synthesised too
  (:data:`SYNTHESISED` says exactly how);
- backbones keep their random initialisation (``Pretrained`` init configs
  are removed), so nothing is downloaded.

It then runs a few training iterations (``model.train_step`` with the
config's optimiser wrapper), one validation batch through the config's
evaluators (more when a metric needs more images, e.g. MaskContrast's
k-means) and one :func:`mmuss.apis.inference` call, and reports speed,
peak memory, the losses and whether everything was finite.
"""
import copy
import gc
import math
import os.path as osp
import sys
import time
import traceback
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.evaluator import Evaluator
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, MODELS

from mmuss.datasets.synthetic_textures import TEXTURE_CLASSES, region_layout, render
from mmuss.evaluation.metrics.mask_kmeans_metric import MaskKMeansMetric
from mmuss.utils.cfg_options import merge_cfg_options
from mmuss.utils.model_wrapper import unwrap_model
from .inference import inference

#: Each method's representative shipped config (relative to the configs folder).
METHOD_CONFIGS = {
    'baseline': 'baseline/baseline_dino-vit-b8_2k_cocostuff27-320.py',
    'primaps-em': 'primaps_em/primaps-em_dino-vit-b8_52e_cocostuff27-320.py',
    'stego': 'stego/stego_dino-vit-b8_5k_cocostuff27-320.py',
    'hp': 'hp/hp_dino-vit-s8_3e_cocostuff27-320.py',
    'maskcontrast': 'maskcontrast/maskcontrast-unsup-sal_resnet50-d8_40e_voc-512.py',
    'cause-mediator': 'cause/cause-mediator_dino-vit-b8_1e_cocostuff27-320.py',
    'cause-mlp': 'cause/cause-mlp_dino-vit-b8_2e_cocostuff27-320.py',
    'cause-tr': 'cause/cause-tr_dino-vit-b8_2e_cocostuff27-320.py',
}

#: Backbones whose frozen forward is timed: (model base config, evaluation crop).
BACKBONE_CONFIGS = {
    'dino-vit-b8': ('_base_/models/dino-vit-b8.py', 320),
    'dinov2-vit-b14': ('_base_/models/dinov2-vit-b14.py', 322),
    'dinov3-vit-b16': ('_base_/models/dinov3-vit-b16.py', 320),
}

#: What the self-check synthesises in place of data and earlier steps' artefacts.
SYNTHESISED = {
    'images': 'square scenes of 2-5 textured Voronoi regions (synthetic_textures), 1.25x the '
              'crop, labels = the regions\' classes (6 of the dataset\'s); the config\'s train/'
              'val pipelines run on them from the loading step on, LabelLUT left out (the labels '
              'are class ids already)',
    'backbone weights': 'random (Pretrained init_cfg removed)',
    'stego knn partner': 'the pipeline output of another synthetic image, set as the '
                         'KNNPairDataset view field',
    'primaps-em proposals': 'in place of LoadPrimapsMasks: the label map at that point of the '
                            'pipeline as mask ids (class + 1); EM entered before the first '
                            'iteration (start_em), as after the warm-up epochs',
    'maskcontrast saliency': 'in place of LoadSaliencyMask: a centred ellipse over half the '
                             'image width and height',
    'cause clusterbook': 'in place of the mediator\'s file: num_codebook rows drawn with '
                         'replacement from the backbone patch features of the first batch',
    'hp reference pools': 'in place of ReferencePoolHook: the head\'s pool_candidates (one '
                          'random patch per image) over the first batch, repeated up to the '
                          'pool size; hp_lambda = 0.5 (mid-ramp)',
}

#: The size key of each resize/crop step (and of the preprocessor) that ``--crop`` sets.
GEOMETRY = dict(ResizeShortSide='size', CenterCrop='crop_size', CenterCropAsOriginal='crop_size',
                RandomCrop='crop_size', SegRandomResizedCrop='crop_size', Resize='scale',
                SegDataPreProcessor='size')
#: Loading steps of earlier steps' artefacts, replaced by synthetic ones (:data:`SYNTHESISED`).
ARTEFACT_LOADERS = dict(LoadPrimapsMasks='primaps-em proposals',
                        LoadSaliencyMask='maskcontrast saliency')
LOADERS = ('LoadImageFromFile', 'LoadImageFromNDArray')
LABEL_LOADERS = ('LoadAnnotations', )
DROPPED = ('LabelLUT', )
PLAIN_PRECISIONS = ('fp16', 'bf16', 'none')


def config_root() -> str:
    """The configs folder shipped with mmuss (``mmuss/.mim/configs``, the repo's ``configs``)."""
    package = osp.dirname(osp.dirname(osp.abspath(__file__)))
    for root in (osp.join(package, '.mim', 'configs'), osp.join(osp.dirname(package), 'configs')):
        if osp.isdir(root):
            return root
    raise FileNotFoundError(f'No configs folder next to {package}.')


def shipped_name(config: str) -> str:
    """``config`` relative to the shipped configs folder when it is in it, else as given."""
    relative = osp.relpath(osp.abspath(config), config_root())
    return config if relative.startswith('..') else osp.join('configs', relative)


def synthetic_scene(size: int, seed: int) -> Tuple[np.ndarray, np.ndarray]:
    """A ``size×size`` BGR uint8 image of textured Voronoi regions and its class labels."""
    rng = np.random.default_rng(seed)
    labels = region_layout(size, len(TEXTURE_CLASSES), rng)
    return np.ascontiguousarray(render(labels, rng)[..., ::-1]), labels


class SyntheticImage:
    """Pipeline step in place of ``LoadImageFromFile``: a :func:`synthetic_scene`.

    Its labels wait in ``results['synthetic_labels']`` for :class:`SyntheticLabels`.
    """

    def __init__(self, size: int) -> None:
        self.size = size

    def __call__(self, results: dict) -> dict:
        image, labels = synthetic_scene(self.size, results['seed'])
        results.update(img=image, img_path=f'synthetic/{results["seed"]}.png',
                       seg_map_path=None, img_shape=image.shape[:2], ori_shape=image.shape[:2],
                       synthetic_labels=labels)
        return results


class SyntheticLabels:
    """Pipeline step in place of ``LoadAnnotations``: the scene's class labels."""

    def __call__(self, results: dict) -> dict:
        results['gt_seg_map'] = results['synthetic_labels'].copy()
        results.setdefault('seg_fields', []).append('gt_seg_map')
        return results


class SyntheticProposals:
    """Pipeline step in place of ``LoadPrimapsMasks``: mask ids = current labels + 1."""

    def __init__(self, key: str = 'gt_primaps', **kwargs) -> None:
        self.key = key

    def __call__(self, results: dict) -> dict:
        labels = results['gt_seg_map'].astype(np.int64)
        results[self.key] = np.where(labels == 255, 255, labels + 1).astype(np.uint8)
        results.setdefault('seg_fields', []).append(self.key)
        return results


class SyntheticSaliency:
    """Pipeline step in place of ``LoadSaliencyMask``: a centred ellipse as ``gt_saliency``."""

    def __init__(self, **kwargs) -> None:
        pass

    def __call__(self, results: dict) -> dict:
        height, width = results['img'].shape[:2]
        yy, xx = np.mgrid[0:height, 0:width]
        inside = ((yy - height / 2) / (height / 4))**2 + ((xx - width / 2) / (width / 4))**2 <= 1
        results['gt_saliency'] = inside.astype(np.uint8)
        results.setdefault('seg_fields', []).append('gt_saliency')
        return results


def synthetic_pipeline(steps: Sequence, size: int) -> List:
    """A pipeline config with its file loaders replaced by synthetic steps (recursively)."""
    out = []
    for step in steps:
        kind = step_type(step)
        if kind in LOADERS:
            out.append(SyntheticImage(size))
        elif kind in LABEL_LOADERS:
            out.append(SyntheticLabels())
        elif kind == 'LoadPrimapsMasks':
            out.append(SyntheticProposals(**{k: v for k, v in step.items() if k == 'key'}))
        elif kind == 'LoadSaliencyMask':
            out.append(SyntheticSaliency())
        elif kind in DROPPED:
            continue
        elif isinstance(step, dict) and isinstance(step.get('transforms'), (list, tuple)):
            out.append({**step, 'transforms': synthetic_pipeline(step['transforms'], size)})
        else:
            out.append(step)
    return out


def unwrap_dataset(dataset: dict) -> Tuple[dict, Optional[str]]:
    """The dataset config whose pipeline makes the samples, and a KNN view key if wrapped."""
    if step_type(dataset) == 'KNNPairDataset':
        return dataset['dataset'], dataset.get('view_key', 'knn_img')
    return dataset, None


def step_type(step: Any) -> Optional[str]:
    """A pipeline step config's type without its scope (``None`` for other objects)."""
    return str(step.get('type', '')).split('.')[-1] if isinstance(step, dict) else None


def pipeline_crop(steps: Sequence) -> int:
    """The largest size a pipeline resizes or crops to (to size the synthetic scenes)."""
    sizes = [0]
    for step in steps:
        value = step.get(GEOMETRY[step_type(step)]) if step_type(step) in GEOMETRY else None
        if isinstance(value, int):
            sizes.append(value)
        elif isinstance(value, (list, tuple)):
            sizes.append(max(value))
        for key in ('transforms', 'view_pipeline'):
            if isinstance(step, dict) and isinstance(step.get(key), (list, tuple)):
                sizes.append(pipeline_crop(step[key]))
    return max(sizes)


def pipeline_artefacts(loader_cfg: dict) -> List[str]:
    """Names (keys of :data:`SYNTHESISED`) of the artefacts a dataloader config reads."""
    dataset, view_key = unwrap_dataset(loader_cfg['dataset'])
    found = ['stego knn partner'] if view_key is not None else []
    steps = list(dataset['pipeline'])
    while steps:
        step = steps.pop(0)
        if step_type(step) in ARTEFACT_LOADERS:
            found.append(ARTEFACT_LOADERS[step_type(step)])
        elif isinstance(step, dict) and isinstance(step.get('transforms'), (list, tuple)):
            steps.extend(step['transforms'])
    return found


def make_batch(loader_cfg: dict, batch_size: int, first_seed: int) -> dict:
    """``batch_size`` samples of a dataloader config's pipeline on synthetic scenes, collated.

    A sample the pipeline rejects (returns ``None``, e.g. a saliency view outside its
    foreground range) is replaced by the next seed's.
    """
    dataset, view_key = unwrap_dataset(loader_cfg['dataset'])
    steps = dataset['pipeline']
    pipeline = Compose(synthetic_pipeline(steps, max(64, round(1.25 * pipeline_crop(steps)))))
    seeds = iter(range(first_seed, first_seed + 100 * batch_size))

    def sample() -> dict:
        for seed in seeds:
            out = pipeline(dict(seed=seed, sample_idx=seed))
            if out is not None:
                return out
        raise RuntimeError('The pipeline rejected 100 synthetic images per sample.')

    samples = []
    for _ in range(batch_size):
        item = sample()
        if view_key is not None:
            item['data_samples'].set_field(sample()['inputs'], view_key)
        samples.append(item)
    return pseudo_collate(samples)


def strip_pretrained(node: Any) -> None:
    """Remove every ``Pretrained`` ``init_cfg`` (and ``pretrained`` path) in place."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in list(items):
        if key == 'init_cfg' and is_pretrained(value):
            node[key] = None
        elif key == 'pretrained' and isinstance(value, str):
            node[key] = None
        elif isinstance(value, (dict, list)):
            strip_pretrained(value)


def is_pretrained(init_cfg: Any) -> bool:
    """Whether an ``init_cfg`` (dict or list) loads a checkpoint."""
    cfgs = init_cfg if isinstance(init_cfg, list) else [init_cfg]
    return any(isinstance(c, dict) and c.get('type') == 'Pretrained' for c in cfgs)


def set_crop(node: Any, size: int) -> None:
    """Every resize/crop (:data:`GEOMETRY`) under ``node`` to ``size`` (``--crop``), in place.

    The preprocessor's ``size`` too, when it has one.
    """
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for _, value in list(items):
        if isinstance(value, (dict, list)):
            set_crop(value, size)
    key = GEOMETRY.get(step_type(node))
    if key is not None and node.get(key) is not None:
        node[key] = size if isinstance(node[key], int) else (size, size)


def prepare_config(cfg: Config, crop: Optional[int] = None, batch: Optional[int] = None,
                   cfg_options: Optional[dict] = None) -> Config:
    """A copy of ``cfg`` as the self-check runs it (see the module docstring).

    ``crop`` sets every pipeline resize/crop and the preprocessor's ``size``
    (CAUSE-TR's ``num_queries`` follows); ``batch`` the train and val batch
    sizes; ``cfg_options`` are merged first, as ``--cfg-options`` of the tools.
    """
    cfg = copy.deepcopy(cfg)
    merge_cfg_options(cfg, cfg_options)
    strip_pretrained(cfg.model)
    head = cfg.model.get('decode_head') or {}
    if head.get('clusterbook_file'):
        head['clusterbook_file'] = None  # synthesised (SYNTHESISED['cause clusterbook'])
    if crop is not None:
        set_crop(cfg._cfg_dict, crop)
        if 'num_queries' in head:
            head['num_queries'] = (crop // cfg.model.backbone.patch_size)**2
    if batch is not None:
        for key in ('train_dataloader', 'val_dataloader'):
            if cfg.get(key):
                cfg[key]['batch_size'] = batch
    return cfg


def precision_of(cfg: Config) -> str:
    """The config's precision: 'fp16'/'bf16' with an ``AmpOptimWrapper``, else 'none'."""
    wrapper = cfg.optim_wrapper
    if str(wrapper.get('type', 'OptimWrapper')).split('.')[-1] != 'AmpOptimWrapper':
        return 'none'
    return 'bf16' if str(wrapper.get('dtype')) in ('bfloat16', 'torch.bfloat16') else 'fp16'


class CPUAutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward runs under CPU bf16 autocast (backward outside it).

    mmengine's ``AmpOptimWrapper`` needs CUDA; this is its CPU counterpart
    for bf16, which needs no loss scaling.
    """

    @contextmanager
    def optim_context(self, model: torch.nn.Module) -> Iterator[None]:
        with super().optim_context(model), torch.autocast('cpu', dtype=torch.bfloat16):
            yield


def optim_wrapper_cfg(cfg: Config, precision: str, device: str) -> dict:
    """The config's optimiser wrapper switched to ``precision`` on ``device``.

    CUDA: ``AmpOptimWrapper`` (the config's loss scale, else dynamic) for
    fp16/bf16, ``OptimWrapper`` for none. CPU: :class:`CPUAutocastOptimWrapper`
    for bf16, ``OptimWrapper`` for none (fp16 is mapped to bf16 by the caller).
    """
    wrapper = copy.deepcopy(dict(cfg.optim_wrapper))
    loss_scale = wrapper.pop('loss_scale', None)
    wrapper.pop('dtype', None)
    if precision == 'none':
        wrapper['type'] = 'OptimWrapper'
    elif device == 'cpu':
        wrapper['type'] = CPUAutocastOptimWrapper
    else:
        wrapper.update(type='AmpOptimWrapper', loss_scale=loss_scale or 'dynamic',
                       dtype='float16' if precision == 'fp16' else 'bfloat16')
    return wrapper


def resolve_precision(requested: Optional[str], cfg: Config, device: str) -> Tuple[str, str]:
    """``(precision used, note)`` from ``--amp`` (``None``: the config's own) and the device."""
    own = precision_of(cfg)
    wanted = own if requested in (None, 'config') else requested
    if wanted not in PLAIN_PRECISIONS:
        raise ValueError(f'--amp must be one of {PLAIN_PRECISIONS} or config, got {wanted!r}.')
    if device == 'cpu' and wanted == 'fp16':
        return 'bf16', f'config {own}; CPU autocast runs bf16 (no fp16 loss scaling on CPU)'
    return wanted, f'config {own}' if requested in (None, 'config') else f'--amp {wanted}'


def build_model(cfg: Config, device: str) -> torch.nn.Module:
    """The config's model, initialised (random backbone) and on ``device``."""
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.cfg = cfg
    model.matching = None
    return model.to(device)


@torch.no_grad()
def synthesise_state(model: torch.nn.Module, batch: dict) -> List[str]:
    """Give the head what earlier steps or hooks would have (:data:`SYNTHESISED`).

    Returns the names of what was synthesised.
    """
    head = unwrap_model(model).decode_head
    done = []
    if hasattr(head, 'set_clusterbook') and not bool(head.clusterbook_ready):
        feats = head.select_feature(backbone_output(model, batch))
        rows = feats.permute(0, 2, 3, 1).reshape(-1, feats.shape[1])
        pick = torch.randint(rows.shape[0], (head.clusterbook.shape[0], ), device=rows.device)
        head.set_clusterbook(rows[pick].float())
        done.append('cause clusterbook')
    if hasattr(head, 'set_pools'):
        out = backbone_output(model, batch)
        parts = []
        while sum(p[0].shape[0] for p in parts) < head.pool_size:
            parts.append(head.pool_candidates(out))
        agnostic, specific = (torch.cat(p)[:head.pool_size] for p in zip(*parts))
        head.set_pools(agnostic, specific)
        head.hp_lambda = 0.5
        done.append('hp reference pools')
    if hasattr(head, 'start_em'):
        head.start_em()
        done.append('primaps-em proposals')
    return done


def backbone_output(model: torch.nn.Module, batch: dict):
    """The frozen backbone's output of a training batch."""
    data = model.data_preprocessor(copy.copy(batch), True)
    return model.extract_feat(data['inputs'])


def synchronize(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def reset_peak_memory(device: str) -> None:
    """Start a peak-memory window: CUDA's allocator peak, or the process's peak RSS (Linux)."""
    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    else:
        try:
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')
        except OSError:
            pass


def peak_memory_mib(device: str) -> Optional[float]:
    """Peak since :func:`reset_peak_memory`: CUDA ``max_memory_allocated`` or CPU ``VmHWM``."""
    if device.startswith('cuda'):
        return round(torch.cuda.max_memory_allocated() / 2**20, 1)
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def finite_numbers(values: Dict[str, Any]) -> Dict[str, float]:
    """The numeric entries of ``values`` as floats (4 significant digits); ``ValueError``
    naming every non-finite one."""
    numbers = {k: float(v) for k, v in values.items()
               if isinstance(v, (int, float, np.number)) or (torch.is_tensor(v) and v.numel() == 1)}
    bad = {k: v for k, v in numbers.items() if not math.isfinite(v)}
    if bad:
        raise ValueError(f'non-finite values: {bad}')
    return {k: float(f'{v:.4g}') for k, v in numbers.items()}


def train(model: torch.nn.Module, cfg: Config, batches: List[dict], wrapper: dict, iters: int,
          warmup: int, device: str) -> dict:
    """``warmup`` untimed and ``iters`` timed ``train_step`` calls; speed, memory, losses."""
    optim_wrapper = build_optim_wrapper(model, wrapper)
    model.train()
    log_vars: Dict[str, Any] = {}
    reset_peak_memory(device)
    for step in range(warmup):
        log_vars = model.train_step(batches[step % len(batches)], optim_wrapper)
        finite_numbers(log_vars)
    synchronize(device)
    start = time.perf_counter()
    for step in range(iters):
        log_vars = model.train_step(batches[(warmup + step) % len(batches)], optim_wrapper)
        finite_numbers(log_vars)
    synchronize(device)
    seconds = time.perf_counter() - start
    images = len(batches[0]['inputs'])
    return dict(batch=images, crop=list(batches[0]['inputs'][0].shape[-2:]),
                iterations_per_s=round(iters / seconds, 4) if iters else None,
                images_per_s=round(iters * images / seconds, 3) if iters else None,
                peak_memory_mib=peak_memory_mib(device), losses=finite_numbers(log_vars))


def dataset_meta(loader_cfg: dict) -> dict:
    """The ``METAINFO`` of the dataloader's dataset class (classes for the metrics)."""
    dataset, _ = unwrap_dataset(loader_cfg['dataset'])
    return dict(getattr(DATASETS.get(dataset['type']), 'METAINFO', {}))


def validate(model: torch.nn.Module, cfg: Config, device: str) -> dict:
    """Validation batches through ``val_step`` and the config's evaluators.

    One batch, or as many as the metrics need images (MaskKMeansMetric:
    ``num_clusters``).
    """
    loader = cfg.val_dataloader
    evaluator = Evaluator(copy.deepcopy(cfg.val_evaluator))
    evaluator.dataset_meta = dataset_meta(loader)
    needed = max([m.num_clusters for m in evaluator.metrics if isinstance(m, MaskKMeansMetric)],
                 default=1)
    batch_size = loader['batch_size']
    batches = math.ceil(max(batch_size, needed) / batch_size)
    model.eval()
    seconds = 0.0
    for index in range(batches):
        batch = make_batch(loader, batch_size, 10_000 + index * batch_size)
        synchronize(device)
        start = time.perf_counter()
        with torch.no_grad():
            outputs = model.val_step(batch)
        synchronize(device)
        seconds += time.perf_counter() - start
        evaluator.process(outputs, batch)
    images = batches * batch_size
    return dict(batches=batches, batch=batch_size, crop=list(batch['inputs'][0].shape[-2:]),
                images_per_s=round(images / seconds, 3),
                metrics=finite_numbers(evaluator.evaluate(images)))


def infer_once(model: torch.nn.Module, crop: int, device: str) -> dict:
    """One :func:`mmuss.apis.inference` call on a ``crop × 4/3·crop`` synthetic image.

    Square (``crop × crop``) for a head that fixes the number of patches
    (CAUSE-TR's ``num_queries``): it predicts at its training resolution only.
    """
    fixed = hasattr(unwrap_model(model).decode_head, 'num_queries')
    height, width = crop, crop if fixed else round(crop * 4 / 3)
    image = synthetic_scene(width, 20_000)[0][:height]
    synchronize(device)
    start = time.perf_counter()
    result = inference(model, image)
    synchronize(device)
    seconds = time.perf_counter() - start
    pred = result.pred_sem_seg.data
    if tuple(pred.shape[-2:]) != (height, width):
        raise ValueError(f'inference returned a {tuple(pred.shape[-2:])} map for a '
                         f'{(height, width)} image')
    if 'seg_logits' in result and not torch.isfinite(result.seg_logits.data).all():
        raise ValueError('inference returned non-finite seg_logits')
    return dict(image=[height, width], seconds=round(seconds, 3))


def check_method(name: str, config: str, device: str, iters: int, warmup: int,
                 amp: Optional[str] = None, crop: Optional[int] = None,
                 batch: Optional[int] = None, cfg_options: Optional[dict] = None) -> dict:
    """Train, validate and infer with one method's config; the method's JSON record.

    Never raises: a failure is recorded (``status='fail'``, ``error``, the
    step it happened in) and its traceback printed to stderr.
    """
    record: Dict[str, Any] = dict(config=shipped_name(config), status='fail')
    step = 'config'
    try:
        cfg = prepare_config(Config.fromfile(config), crop, batch, cfg_options)
        init_default_scope(cfg.get('default_scope', 'mmseg'))
        precision, note = resolve_precision(amp, cfg, device)
        record.update(precision=precision, precision_source=note)
        torch.manual_seed(0)
        np.random.seed(0)
        step = 'data'
        train_loader = cfg.train_dataloader
        batches = [make_batch(train_loader, train_loader['batch_size'], i * 1000)
                   for i in range(min(2, max(1, iters + warmup)))]
        step = 'model'
        model = build_model(cfg, device)
        step = 'synthesise'
        record['synthesised'] = list(dict.fromkeys(
            pipeline_artefacts(train_loader) + synthesise_state(model, batches[0])))
        step = 'train'
        record['train'] = train(model, cfg, batches, optim_wrapper_cfg(cfg, precision, device),
                                iters, warmup, device)
        if cfg.get('val_dataloader'):
            step = 'val'
            record['val'] = validate(model, cfg, device)
            step = 'inference'
            record['inference'] = infer_once(model, record['val']['crop'][0], device)
        else:
            record['val'] = record['inference'] = 'skipped: the config has no val_dataloader'
        record['status'] = 'pass'
    except Exception as exc:  # any failure is the result
        record.update(failed_step=step, error=f'{type(exc).__name__}: {exc}'[:2000])
        traceback.print_exc(file=sys.stderr)
    finally:
        release(device)
    return record


def release(device: str) -> None:
    """Free what the last method held (models are local; collect them now)."""
    gc.collect()
    if device.startswith('cuda'):
        torch.cuda.empty_cache()


def time_backbone(name: str, device: str, batch: int, iters: int, warmup: int,
                  crop: Optional[int] = None) -> dict:
    """Frozen forward images/s of a backbone base config in fp32 and bf16 (random weights)."""
    base, own_crop = BACKBONE_CONFIGS[name]
    cfg = Config.fromfile(osp.join(config_root(), base))
    strip_pretrained(cfg.model)
    init_default_scope('mmseg')
    backbone = MODELS.build(cfg.model.backbone).to(device).eval().requires_grad_(False)
    size = crop or own_crop
    size -= size % backbone.patch_size
    images = torch.randn(batch, 3, size, size, device=device)
    record: Dict[str, Any] = dict(crop=size, batch=batch)
    for precision in ('fp32', 'bf16'):
        autocast = torch.autocast(torch.device(device).type, dtype=torch.bfloat16,
                                  enabled=precision == 'bf16')
        with torch.no_grad(), autocast:
            for _ in range(warmup):
                backbone(images)
            synchronize(device)
            start = time.perf_counter()
            for _ in range(iters):
                out = backbone(images)
            synchronize(device)
        seconds = time.perf_counter() - start
        if not all(torch.isfinite(o).all() for o in out if torch.is_tensor(o)):
            raise ValueError(f'{name}: non-finite {precision} features')
        record[f'{precision}_images_per_s'] = round(batch * iters / seconds, 3)
    del backbone
    release(device)
    return record


def device_name(device: str) -> str:
    if device.startswith('cuda'):
        return torch.cuda.get_device_name(torch.device(device))
    return f'cpu ({torch.get_num_threads()} threads)'


def run_selfcheck(methods: Sequence[str], device: str, iters: int, warmup: int,
                  amp: Optional[str] = None, crop: Optional[int] = None,
                  batch: Optional[int] = None, cfg_options: Optional[dict] = None,
                  configs: Optional[Dict[str, str]] = None, backbones: Sequence[str] = (),
                  backbone_batch: int = 1, backbone_iters: int = 1, backbone_warmup: int = 0,
                  progress: Callable[[str], None] = lambda line: None) -> dict:
    """Check ``methods`` (and time ``backbones``) on ``device``; the whole JSON record.

    Args:
        methods: Names in :data:`METHOD_CONFIGS` (or in ``configs``).
        device: ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
        iters: Timed training iterations per method.
        warmup: Untimed training iterations before them.
        amp: ``'fp16'``/``'bf16'``/``'none'``; ``None``: each config's own.
        crop: Override of every pipeline crop (``None``: the configs').
        batch: Override of the train/val batch size (``None``: the configs').
        cfg_options: ``--cfg-options`` merged into every method's config.
        configs: Config file per method, overriding :data:`METHOD_CONFIGS`.
        backbones: Names in :data:`BACKBONE_CONFIGS` to time.
        backbone_batch: Images per timed backbone forward.
        backbone_iters: Timed forwards per backbone and precision.
        backbone_warmup: Untimed forwards before them.
        progress: Called with one line per method and backbone.

    Returns:
        The record ``tools/selfcheck.py`` prints; ``passed`` is false when any
        method or backbone failed.
    """
    paths = {m: osp.join(config_root(), c) for m, c in METHOD_CONFIGS.items()}
    paths.update(configs or {})
    unknown = [m for m in methods if m not in paths]
    if unknown:
        raise KeyError(f'Unknown methods {unknown}; known: {sorted(paths)} (or give a config '
                       f'with --configs METHOD=FILE).')
    result: Dict[str, Any] = dict(
        selfcheck='mmuss', device=device_name(device), torch=torch.__version__,
        cuda=torch.version.cuda, settings=dict(
            iters=iters, warmup=warmup, amp=amp or 'config', crop=crop or 'config',
            batch=batch or 'config', cfg_options=cfg_options or {}, backbone_batch=backbone_batch,
            backbone_iters=backbone_iters, backbone_warmup=backbone_warmup),
        synthesised=SYNTHESISED, methods={}, backbones={})
    for method in methods:
        record = check_method(method, paths[method], device, iters, warmup, amp, crop, batch,
                              cfg_options)
        result['methods'][method] = record
        progress(method_line(method, record))
    for name in backbones:
        try:
            record = time_backbone(name, device, backbone_batch, backbone_iters, backbone_warmup,
                                   crop)
            record['status'] = 'pass'
        except Exception as exc:  # any failure is the result
            record = dict(status='fail', error=f'{type(exc).__name__}: {exc}'[:2000])
            traceback.print_exc(file=sys.stderr)
        result['backbones'][name] = record
        progress(f'backbone {name}: ' + ', '.join(f'{k}={v}' for k, v in record.items()))
    result['passed'] = all(r['status'] == 'pass' for part in ('methods', 'backbones')
                           for r in result[part].values())
    return result


def method_line(method: str, record: dict) -> str:
    """One progress line for stderr."""
    if record['status'] != 'pass':
        return f'{method}: FAIL in {record.get("failed_step")}: {record.get("error")}'
    train_rec = record['train']
    return (f'{method}: pass ({record["precision"]}) {train_rec["iterations_per_s"]} it/s, '
            f'{train_rec["images_per_s"]} img/s, batch {train_rec["batch"]} at '
            f'{train_rec["crop"]}, peak {train_rec["peak_memory_mib"]} MiB, '
            f'losses {train_rec["losses"]}')
