"""Every knob the docs tell users to turn is one named top-level key that reaches all its uses.

``--cfg-options KEY=VALUE`` (``mmuss.utils.cfg_options.merge_cfg_options``, what the tools use)
must change every field that reads the knob: the resize/crop sizes of the training side
(``train_crop_size``) and of evaluation (``crop_size``), and each artefact or hook setting below.
"""
import copy
import functools
import re
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import pytest
from mmengine.config import Config

from mmuss.utils.cfg_options import merge_cfg_options

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p for p in (REPO / 'configs').rglob('*.py') if '_base_' not in p.parts)
IDS = [f'{p.parent.name}/{p.stem}' for p in SHIPPED]

# knob -> the (component type, field) pairs that read it
CONSUMERS = dict(
    clusterbook_file=[('CauseClusterbookHook', 'clusterbook_file'),
                      ('CauseMLPHead', 'clusterbook_file'), ('CauseTRHead', 'clusterbook_file')],
    step2_work_dir=[('CauseHeadInitHook', 'checkpoint')],
    sota_checkpoint=[('FrozenCodeBackbone', 'checkpoint'),
                     ('CheckpointPrototypeInitHook', 'checkpoint')],
    pretrained=[('Pretrained', 'checkpoint')],
    knn_file=[('KNNPairDataset', 'knn_file')],
    proposal_root=[('LoadPrimapsMasks', 'proposal_root')],
    saliency_dir=[('LoadSaliencyMask', 'saliency_dir')],
    num_queries=[('CauseTRHead', 'num_queries')],
    warmup=[('HPLambdaHook', 'warmup')],
    renew_interval=[('ReferencePoolHook', 'renew_interval')],
    warmup_epochs=[('PrimapsEMHook', 'warmup_epochs'), ('BestAfterWarmupCheckpointHook', 'warmup')],
)
# what the tools build (other top-level keys are the configs' intermediate variables)
LIVE = ('model', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'custom_hooks',
        'default_hooks', 'primaps_precompute')
SENTINEL = dict(num_queries=7, warmup=7, renew_interval=7, warmup_epochs=7)


def components(node) -> Iterator[dict]:
    """Every dict with a ``type`` anywhere below ``node``."""
    if isinstance(node, dict):
        if 'type' in node:
            yield node
        for value in node.values():
            yield from components(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from components(value)


def side(step: dict) -> Optional[int]:
    """The square side a resize/crop transform produces (``None`` for other transforms)."""
    kind = step['type']
    if kind == 'ResizeShortSide':
        return step['size']
    if kind in ('CenterCrop', 'CenterCropAsOriginal', 'RandomCrop', 'SegRandomResizedCrop'):
        size = step['crop_size']
    elif kind == 'Resize' and not step.get('keep_ratio', False):
        size = step['scale']
    elif kind in ('Resize', 'RandomResize'):  # shorter side (the long one is a 16x bound)
        return min(step['scale'])
    else:
        return None
    if isinstance(size, (tuple, list)):
        assert size[0] == size[1], step
        return size[0]
    return size


def sides(cfg: Config) -> Tuple[List[int], List[int]]:
    """Sides of the training loader's transforms, and of the other loaders'."""
    train = [s for s in map(side, components(cfg.get('train_dataloader'))) if s is not None]
    other = [s for key in ('val_dataloader', 'test_dataloader', 'primaps_precompute')
             for s in map(side, components(cfg.get(key))) if s is not None]
    return train, other


@functools.lru_cache(maxsize=None)
def shipped(path: Path) -> Config:
    return Config.fromfile(str(path))


def load(path: Path) -> Config:
    """A fresh copy of a shipped config (loaded once per session)."""
    return copy.deepcopy(shipped(path))


@pytest.mark.parametrize('path', SHIPPED, ids=IDS)
def test_crop_size_keys_are_the_sizes(path):
    """``crop_size``/``train_crop_size`` state every size of their side, and options move them."""
    cfg = load(path)
    if 'crop_size' not in cfg:
        assert not any(sides(cfg)), 'resizes/crops but has no crop_size key'
        return
    train_key = 'train_crop_size' if 'train_crop_size' in cfg else 'crop_size'
    train, other = sides(cfg)
    assert set(train) <= {cfg[train_key]} and set(other) <= {cfg.crop_size}, (train, other)
    options = dict(crop_size=48, train_crop_size=40) if train_key != 'crop_size' else dict(
        crop_size=48)
    train, other = sides(merge_cfg_options(cfg, options))
    assert set(train) <= {options[train_key]} and set(other) <= {48}, (train, other)


@pytest.mark.parametrize('path', SHIPPED, ids=IDS)
def test_knobs_reach_every_use(path):
    cfg = load(path)
    knobs = [k for k in CONSUMERS if k in cfg]
    new = {k: SENTINEL.get(k, f'/elsewhere/{k}') for k in knobs}
    cfg = merge_cfg_options(cfg, new)
    for knob in knobs:
        uses = [(c['type'], field, c[field]) for c in components([cfg.get(k) for k in LIVE])
                for kind, field in CONSUMERS[knob] if c['type'] == kind and field in c]
        assert uses, f'{knob} is read by nothing'
        assert all(value == new[knob] for _, _, value in uses), (knob, uses)


def test_an_unset_path_variable_reaches_its_field():
    """``clusterbook_file = None`` (the mediator's default: its work dir) still moves."""
    cfg = Config(dict(clusterbook_file=None, custom_hooks=[
        dict(type='CauseClusterbookHook', clusterbook_file=None)]))
    merge_cfg_options(cfg, dict(clusterbook_file='/b.npy'))
    assert cfg.custom_hooks[0].clusterbook_file == '/b.npy'


def test_train_size_and_eval_size_stay_apart_when_equal():
    """CAUSE-TR trains and evaluates at 320: each key still moves only its side."""
    cfg = Config.fromfile(str(REPO / 'configs/cause/cause-tr_dino-vit-b8_2e_cocostuff27-320.py'))
    assert cfg.crop_size == cfg.train_crop_size == 320
    train, other = sides(merge_cfg_options(cfg, dict(train_crop_size=64)))
    assert set(train) == {64} and set(other) == {320}


DOCS = sorted([REPO / 'README.md', *(REPO / 'docs').rglob('*.md'),
               *(REPO / 'configs').rglob('*.md'), *(REPO / 'configs').rglob('*.py')])


@pytest.mark.parametrize('path', DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_no_knob_is_reached_by_list_index(path):
    """``custom_hooks.0.checkpoint`` breaks when hooks are added; name the key instead."""
    hits = re.findall(r'\b[a-z_]+\.\d+\.[a-z_]+', path.read_text())
    assert not hits, hits
