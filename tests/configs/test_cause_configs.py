"""The CAUSE configs load, chain their three steps and carry the reference's settings."""
import functools
from pathlib import Path

import pytest
from mmengine.config import Config
from mmseg.registry import MODELS

import mmuss  # noqa: F401

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
BACKBONES = {'dino-vit-s8': (384, 8, 320), 'dino-vit-b8': (768, 8, 320),
             'dinov2-vit-b14': (768, 14, 322)}
DATASETS = ('cocostuff27', 'cityscapes27')
# (max_norm, weight decay) of steps 2-3 per (head, dataset): the reference's clipping and Adam
OPTIM = {('mlp', 'cocostuff27'): (0.1, 1e-4), ('tr', 'cocostuff27'): (2.0, 1e-4),
         ('mlp', 'cityscapes27'): (1.0, 0.0), ('tr', 'cityscapes27'): (1.0, 0.0)}
CASES = [(bb, ds) for bb in BACKBONES for ds in DATASETS]


@functools.lru_cache(maxsize=None)
def load(name):
    return Config.fromfile(CONFIGS / 'cause' / f'{name}.py')


def train_size(cfg):
    return next(t['crop_size'] for t in cfg.train_dataloader.dataset.pipeline
                if t['type'] == 'CenterCrop')


def test_every_cause_config_is_covered_here():
    expected = {f'cause-mediator_{bb}_1e_{ds}-{BACKBONES[bb][2]}' for bb, ds in CASES}
    for bb, ds in CASES:
        size = BACKBONES[bb][2]
        for kind, epochs in (('mlp', 1), ('tr', 5)):
            expected |= {f'cause-{kind}_{bb}_2e_{ds}-{size}',
                         f'cause-{kind}-probe_{bb}_{epochs}e_{ds}-{size}'}
    expected |= {f'primaps-em-cause-tr_dino-vit-b8_50e_{ds}-320' for ds in DATASETS}
    assert {p.stem for p in (CONFIGS / 'cause').glob('*.py')} == expected


@pytest.mark.parametrize('bb,ds', CASES)
def test_mediator(bb, ds):
    dims, _, size = BACKBONES[bb]
    cfg = load(f'cause-mediator_{bb}_1e_{ds}-{size}')
    head = cfg.model.decode_head
    assert (head.type, head.in_channels, head.num_codebook, head.grid_stride) == (
        'CauseMediatorHead', dims, 2048, 4)
    assert head.loss_mod.temperature == 0.1
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=4e-3)
    assert cfg.train_cfg.max_epochs == 1 and cfg.val_cfg is None
    assert cfg.train_cfg.type == 'ResumableEpochBasedTrainLoop'
    assert cfg.default_hooks.iter_checkpoint == dict(type='IterCheckpointHook', interval=500,
                                                     max_keep_ckpts=1)
    assert train_size(cfg) == size and cfg.train_dataloader.batch_size == 16
    assert 'five_crop' in cfg.train_dataloader.dataset.data_prefix.img_path
    hook = next(h for h in cfg.custom_hooks if h.type == 'CauseClusterbookHook')
    assert hook.out_file == cfg.clusterbook_file and bb in hook.out_file and ds in hook.out_file
    assert MODELS.build(head).clusterbook.shape == (2048, dims)


@pytest.mark.parametrize('kind', ['mlp', 'tr'])
@pytest.mark.parametrize('bb,ds', CASES)
def test_front_door_and_probe_steps(bb, ds, kind):
    dims, patch, size = BACKBONES[bb]
    book = load(f'cause-mediator_{bb}_1e_{ds}-{size}').clusterbook_file
    step2_name = f'cause-{kind}_{bb}_2e_{ds}-{size}'
    step2 = load(step2_name)
    step3 = load(f"cause-{kind}-probe_{bb}_{5 if kind == 'tr' else 1}e_{ds}-{size}")
    for cfg, front_door in ((step2, True), (step3, False)):
        head = cfg.model.decode_head
        assert cfg.train_cfg.type == 'ResumableEpochBasedTrainLoop'
        assert cfg.default_hooks.iter_checkpoint == dict(type='IterCheckpointHook',
                                                         interval=1000, max_keep_ckpts=1)
        assert head.type == ('CauseTRHead' if kind == 'tr' else 'CauseMLPHead')
        assert (head.in_channels, head.channels, head.num_codebook, head.proj_channels) == (
            dims, 90, 2048, 2048)
        assert (head.ema_momentum, head.grid_stride, head.cluster_alpha) == (0.99, 4, 3.0)
        assert head.clusterbook_file == book
        assert head.get('front_door', True) == front_door
        assert head.loss_probe.temperature == 0.1
        if kind == 'tr':
            assert head.num_queries == (size // patch)**2
        assert train_size(cfg) == (size if kind == 'tr' else 224)
        assert cfg.optim_wrapper.optimizer.lr == 4e-3
        assert (cfg.optim_wrapper.clip_grad.max_norm,
                cfg.optim_wrapper.optimizer.weight_decay) == OPTIM[(kind, ds)]
        assert not cfg.model.test_cfg.flip and not cfg.model.test_cfg.crf
        assert cfg.test_dataloader.dataset.pipeline[-2].crop_size == size
    head = step2.model.decode_head
    assert (head.bank_size, head.bank_keep_ratio) == (100, 0.5)
    assert (head.loss_front.temperature, head.loss_front.pos_thresh,
            head.loss_front.neg_thresh) == (0.07, 0.3, 0.1)
    assert step2.train_cfg.max_epochs == 2
    assert step3.train_cfg.max_epochs == (5 if kind == 'tr' else 1)
    assert step3.param_scheduler == [dict(type='StepLR', step_size=2, gamma=0.5, by_epoch=True)]
    init = next(h for h in step3.custom_hooks if h.type == 'CauseHeadInitHook')
    assert init.checkpoint == f'work_dirs/{step2_name}'
    built = MODELS.build(dict(step3.model.decode_head, clusterbook_file=None))
    assert {n for n, p in built.named_parameters() if p.requires_grad} == {
        'cluster_probe.prototypes', 'linear_probe.conv.weight', 'linear_probe.conv.bias'}


@pytest.mark.parametrize('ds', DATASETS)
def test_primaps_em_on_top_of_cause_tr(ds):
    cfg = load(f'primaps-em-cause-tr_dino-vit-b8_50e_{ds}-320')
    backbone = cfg.model.backbone
    assert backbone.type == 'FrozenCodeBackbone' and backbone.head.type == 'CauseTRHead'
    assert backbone.checkpoint == cfg.sota_checkpoint
    assert f'cause-tr-probe_dino-vit-b8_5e_{ds}-320' in cfg.sota_checkpoint
    assert cfg.model.decode_head.in_channels == 90
    assert cfg.custom_hooks[0].checkpoint == cfg.sota_checkpoint
