"""The CAUSE configs load, chain their three steps and carry the reference's settings."""
import argparse
import functools
from pathlib import Path

import pytest
from mmengine.config import Config
from mmseg.registry import MODELS

import mmuss  # noqa: F401
from mmuss.apis.run_config import load_run_config

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
# (width, patch, evaluation crop) of every backbone of the matrix (configs/README.md)
BACKBONES = {'dino-vit-s8': (384, 8, 320), 'dino-vit-b8': (768, 8, 320),
             'dinov2-vit-b14': (768, 14, 322), 'dinov3-vit-s16': (384, 16, 320),
             'dinov3-vit-b16': (768, 16, 320), 'dinov3-vit-l16': (1024, 16, 320)}
DATASETS = {'cocostuff27': 27, 'cityscapes27': 27, 'voc': 21}  # classes incl. VOC background
# (max_norm, weight decay) of step 2 per (head, dataset): the reference's clipping and Adam (VOC:
# no clipping in the reference's step-2 scripts, COCO-Stuff's assumed)
OPTIM = {('mlp', 'cocostuff27'): (0.1, 1e-4), ('tr', 'cocostuff27'): (2.0, 1e-4),
         ('mlp', 'cityscapes27'): (1.0, 0.0), ('tr', 'cityscapes27'): (1.0, 0.0),
         ('mlp', 'voc'): (0.1, 1e-4), ('tr', 'voc'): (2.0, 1e-4)}
# step 3 clips as step 2, except on VOC (the reference's fine_tuning_*.py clip COCO/Cityscapes only)
OPTIM_STEP3 = {**OPTIM, ('mlp', 'voc'): (None, 1e-4), ('tr', 'voc'): (None, 1e-4)}
CASES = [(bb, ds) for bb in BACKBONES for ds in DATASETS]


@functools.lru_cache(maxsize=None)
def load(name):
    return Config.fromfile(CONFIGS / 'cause' / f'{name}.py')


def train_size(cfg):
    """Side of the square training input: centre crop (five crops) or fixed resize (VOC)."""
    steps = {t['type']: t for t in cfg.train_dataloader.dataset.pipeline}
    if 'CenterCrop' in steps:
        return steps['CenterCrop']['crop_size']
    resize = steps['Resize']
    assert not resize['keep_ratio'] and resize['scale'][0] == resize['scale'][1]
    return resize['scale'][0]


def scored_size(cfg):
    """Side of the scored test image (CenterCropAsOriginal; VOC passes the whole (w, h))."""
    crop = cfg.test_dataloader.dataset.pipeline[-2]
    assert crop.type == 'CenterCropAsOriginal'
    if isinstance(crop.crop_size, tuple):
        assert crop.crop_size[0] == crop.crop_size[1]
        return crop.crop_size[0]
    return crop.crop_size


def test_every_cause_config_is_covered_here():
    expected = {f'cause-mediator_{bb}_1e_{ds}-{BACKBONES[bb][2]}' for bb, ds in CASES}
    for bb, ds in CASES:
        size = BACKBONES[bb][2]
        for kind, epochs in (('mlp', 1), ('tr', 5)):
            expected |= {f'cause-{kind}_{bb}_2e_{ds}-{size}',
                         f'cause-{kind}-probe_{bb}_{epochs}e_{ds}-{size}'}
    expected |= {f'primaps-em-cause-tr_{bb}_50e_{ds}-{BACKBONES[bb][2]}'
                 for bb in BACKBONES for ds in ('cocostuff27', 'cityscapes27')}
    assert {p.stem for p in (CONFIGS / 'cause').glob('*.py')} == expected


@pytest.mark.parametrize('bb,ds', CASES)
def test_mediator(bb, ds):
    dims, _, size = BACKBONES[bb]
    cfg = load(f'cause-mediator_{bb}_1e_{ds}-{size}')
    head = cfg.model.decode_head
    assert 'in_channels' not in head  # the built backbone's width (tests/test_configs.py)
    assert (head.type, cfg.embed_dims, head.num_codebook, head.grid_stride) == (
        'CauseMediatorHead', dims, 2048, 4)
    assert head.num_classes == DATASETS[ds]
    assert head.loss_mod.temperature == 0.1
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=4e-3)
    assert cfg.train_cfg.max_epochs == 1 and cfg.val_cfg is None
    assert cfg.train_cfg.type == 'ResumableEpochBasedTrainLoop'
    assert cfg.default_hooks.iter_checkpoint == dict(type='IterCheckpointHook', interval=500,
                                                     max_keep_ckpts=1)
    assert train_size(cfg) == size and cfg.train_dataloader.batch_size == 16
    crops = 'super_crop_0' if ds == 'voc' else 'five_crop_0.5'
    assert crops in cfg.train_dataloader.dataset.data_prefix.img_path
    hook = next(h for h in cfg.custom_hooks if h.type == 'CauseClusterbookHook')
    assert hook.clusterbook_file is cfg.clusterbook_file is None  # into the work dir
    assert cfg.train_crop_size == size
    assert MODELS.build(dict(head, in_channels=dims)).clusterbook.shape == (2048, dims)


@pytest.mark.parametrize('kind', ['mlp', 'tr'])
@pytest.mark.parametrize('bb,ds', CASES)
def test_front_door_and_probe_steps(bb, ds, kind):
    dims, patch, size = BACKBONES[bb]
    book = f'work_dirs/cause-mediator_{bb}_1e_{ds}-{size}/clusterbook_2048.npy'
    step2_name = f'cause-{kind}_{bb}_2e_{ds}-{size}'
    step2 = load(step2_name)
    step3 = load(f"cause-{kind}-probe_{bb}_{5 if kind == 'tr' else 1}e_{ds}-{size}")
    for cfg, front_door, optim in ((step2, True, OPTIM), (step3, False, OPTIM_STEP3)):
        head = cfg.model.decode_head
        assert cfg.train_cfg.type == 'ResumableEpochBasedTrainLoop'
        assert cfg.default_hooks.iter_checkpoint == dict(type='IterCheckpointHook',
                                                         interval=1000, max_keep_ckpts=1)
        assert head.type == ('CauseTRHead' if kind == 'tr' else 'CauseMLPHead')
        assert head.num_classes == DATASETS[ds]
        assert 'in_channels' not in head
        assert (cfg.embed_dims, head.channels, head.num_codebook, head.proj_channels) == (
            dims, 90, 2048, 2048)
        assert (head.ema_momentum, head.grid_stride, head.cluster_alpha) == (0.99, 4, 3.0)
        assert head.clusterbook_file == book
        assert head.get('front_door', True) == front_door
        assert head.loss_probe.temperature == 0.1
        if kind == 'tr':
            assert head.num_queries == (size // patch)**2
        assert train_size(cfg) == cfg.train_crop_size == (size if kind == 'tr' else 224)
        assert cfg.optim_wrapper.optimizer.lr == 4e-3
        clip = cfg.optim_wrapper.clip_grad
        assert ((clip or {}).get('max_norm'),
                cfg.optim_wrapper.optimizer.weight_decay) == optim[(kind, ds)]
        assert bool(cfg.optim_wrapper.clip_prefixes) == (clip is not None)
        assert not cfg.model.test_cfg.flip and not cfg.model.test_cfg.crf
        assert scored_size(cfg) == size
    head = step2.model.decode_head
    assert (head.bank_size, head.bank_keep_ratio) == (100, 0.5)
    assert (head.loss_front.temperature, head.loss_front.pos_thresh,
            head.loss_front.neg_thresh) == (0.07, 0.3, 0.1)
    assert step2.train_cfg.max_epochs == 2
    assert step3.train_cfg.max_epochs == (5 if kind == 'tr' else 1)
    assert step3.param_scheduler == [dict(type='StepLR', step_size=2, gamma=0.5, by_epoch=True)]
    init = next(h for h in step3.custom_hooks if h.type == 'CauseHeadInitHook')
    assert init.checkpoint == f'work_dirs/{step2_name}'
    built = MODELS.build(dict(step3.model.decode_head, clusterbook_file=None,
                              in_channels=step3.embed_dims))
    assert {n for n, p in built.named_parameters() if p.requires_grad} == {
        'cluster_probe.prototypes', 'linear_probe.conv.weight', 'linear_probe.conv.bias'}


@pytest.mark.parametrize('name', [
    'cause-mediator_dino-vit-s8_1e_voc-320', 'cause-mlp_dino-vit-b8_2e_voc-320',
    'cause-tr-probe_dinov2-vit-b14_5e_voc-322'])
def test_voc_data_as_the_reference(name):
    """Train: 50 super crops per VOC train image, squashed to the step's size (PIL nearest);
    test: VOC val squashed to 320 (322), scored there; 21 classes, 255 ignored."""
    cfg = load(name)
    size = 322 if 'dinov2' in name else 320
    train = cfg.train_dataloader.dataset
    assert (train.type, train.ann_file, train.data_root) == (
        'PascalVOC21Dataset', '', 'data/VOCdevkit/VOC2012')
    assert train.data_prefix == dict(img_path='cropped/pascalvoc_super_crop_0/img/train',
                                     seg_map_path='cropped/pascalvoc_super_crop_0/label/train')
    steps = [t.type for t in train.pipeline]
    assert steps == ['LoadImageFromFile', 'LoadAnnotations', 'LabelLUT', 'Resize',
                     'PackSegInputs']
    lut, resize = train.pipeline[2], train.pipeline[3]
    assert lut.mapping == 'super_crop21'
    side = 224 if 'mlp' in name else size
    assert (resize.scale, resize.keep_ratio, resize.interpolation, resize.backend) == (
        (side, side), False, 'nearest', 'pillow')
    assert cfg.train_dataloader.sampler == dict(type='DefaultSampler', shuffle=True)
    if cfg.val_dataloader is None:
        return
    val = cfg.val_dataloader.dataset
    assert (val.type, val.ann_file) == ('PascalVOCDataset', 'ImageSets/Segmentation/val.txt')
    assert [t.type for t in val.pipeline] == [
        'LoadImageFromFile', 'LoadAnnotations', 'LabelLUT', 'Resize', 'CenterCropAsOriginal',
        'PackSegInputs']
    assert val.pipeline[2].mapping == 'voc21'
    resize = val.pipeline[3]
    assert (resize.scale, resize.keep_ratio, resize.interpolation, resize.backend) == (
        (size, size), False, 'nearest', 'pillow')
    assert [m.prefix for m in cfg.val_evaluator] == ['cluster', 'linear']


@pytest.mark.parametrize('ds', ['cocostuff27', 'cityscapes27'])
def test_primaps_em_on_top_of_cause_tr(ds):
    cfg = load(f'primaps-em-cause-tr_dino-vit-b8_50e_{ds}-320')
    backbone = cfg.model.backbone
    assert backbone.type == 'FrozenCodeBackbone' and backbone.head.type == 'CauseTRHead'
    assert backbone.checkpoint == cfg.sota_checkpoint
    assert f'cause-tr-probe_dino-vit-b8_5e_{ds}-320' in cfg.sota_checkpoint
    assert 'in_channels' not in cfg.model.decode_head and backbone.head.channels == 90
    # the prototypes start from the FrozenCodeBackbone's checkpoint
    assert cfg.custom_hooks[0].type == 'CheckpointPrototypeInitHook'
    assert 'checkpoint' not in cfg.custom_hooks[0]
    # no warm-up (as on top of STEGO/HP): every EM epoch is a best-checkpoint candidate
    assert cfg.custom_hooks[1].warmup_epochs == 0
    assert cfg.default_hooks.checkpoint.warmup == 0 == cfg.warmup_epochs


def test_documented_cpu_override_gives_a_plain_optim_wrapper():
    """configs/cause/README.md: `--cfg-options optim_wrapper.type=OptimWrapper
    optim_wrapper.loss_scale=None` (mmengine's OptimWrapper takes no loss_scale)."""
    for name in ('cause-mediator_dino-vit-s8_1e_voc-320', 'cause-tr_dino-vit-s8_2e_voc-320'):
        args = argparse.Namespace(
            config=str(CONFIGS / 'cause' / f'{name}.py'), launcher='none', work_dir=None,
            cfg_options={'optim_wrapper.type': 'OptimWrapper', 'optim_wrapper.loss_scale': None})
        wrapper = load_run_config(args).optim_wrapper
        assert wrapper.type == 'OptimWrapper' and 'loss_scale' not in wrapper
        assert wrapper.optimizer.lr == 4e-3
