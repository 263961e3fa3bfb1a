"""The MaskContrast configs load, their pipelines build, and they carry the reference's settings.

Settings: docs/methods/maskcontrast.md#hyper-parameters.
"""
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import TRANSFORMS

CONFIGS = Path(__file__).resolve().parents[2] / 'configs' / 'maskcontrast'
PRETRAIN = {  # name: (global batch on the reference's 2 GPUs, queue, frozen stages)
    'maskcontrast-sup-sal_resnet50-d8_40e_voc-512': (64, 128, 2),
    'maskcontrast-unsup-sal_resnet50-d8_40e_voc-512': (128, 256, -1),
}


def load(name: str) -> Config:
    init_default_scope('mmseg')
    return Config.fromfile(str(CONFIGS / f'{name}.py'))


def build_pipeline(steps) -> None:
    for step in steps:
        TRANSFORMS.build(step)


@pytest.mark.parametrize('name', sorted(PRETRAIN))
def test_pretraining_configs_match_reference_schedule(name):
    cfg = load(name)
    batch, queue, frozen = PRETRAIN[name]
    assert cfg.train_dataloader.batch_size * 2 == batch and cfg.model.queue_size == queue
    assert cfg.model.backbone.frozen_stages == frozen
    backbone = cfg.model.backbone
    assert (backbone.depth, backbone.strides, backbone.dilations) == (50, (1, 2, 1, 1),
                                                                       (1, 1, 2, 4))
    assert backbone.contract_dilation and not backbone.deep_stem
    head = cfg.model.decode_head
    assert (head.channels, head.embed_dims, head.dilations, head.dropout_ratio) == (
        256, 32, (1, 12, 24, 36), 0.5)
    assert cfg.model.momentum == 0.999 and cfg.model.loss_cfg.temperature == 0.5
    assert cfg.model.loss_cfg.saliency_weight == 1.0
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.momentum, opt.weight_decay) == ('SGD', 0.004, 0.9, 1e-4)
    (sched, ) = cfg.param_scheduler
    assert (sched.type, sched.power, sched.by_epoch) == ('PolyLR', 0.9, True)
    assert cfg.train_cfg.max_epochs == 40
    pipeline = cfg.train_dataloader.dataset.pipeline
    build_pipeline(pipeline)
    views = next(s for s in pipeline if s['type'] == 'MaskContrastViews')
    assert (views.min_foreground, views.max_foreground, views.max_tries) == (0.01, 0.99, 3)
    crop = views.view_pipeline[0]
    assert (crop.type, crop.crop_size, crop.scale) == ('SegRandomResizedCrop', 224, (0.2, 1.0))
    loader = next(s for s in pipeline if s['type'] == 'LoadSaliencyMask')
    expected_dir = 'saliency_supervised_model' if 'unsup' not in name else \
        'saliency_unsupervised_model'
    assert loader.saliency_dir == expected_dir and loader.threshold == 255
    ev = cfg.val_evaluator
    assert (ev.type, ev.num_clusters, ev.num_seeds, ev.seed_base, ev.pca_dims) == (
        'MaskKMeansMetric', 20, 5, 1234, 32)
    build_pipeline(cfg.val_dataloader.dataset.pipeline)


def test_linear_probe_config_matches_reference():
    cfg = load('maskcontrast-linear_resnet50-d8_60e_voc-512')
    assert cfg.model.decode_head.frozen and cfg.model.decode_head.linear_probe
    assert cfg.model.decode_head.init_cfg.prefix == 'decode_head.'
    assert cfg.model.backbone.init_cfg.prefix == 'backbone.'
    opt = cfg.optim_wrapper.optimizer
    assert (opt.lr, opt.momentum, opt.weight_decay, cfg.train_dataloader.batch_size) == (
        0.1, 0.9, 1e-4, 16)
    assert cfg.train_cfg.max_epochs == 60
    assert cfg.val_evaluator.matching == 'none'
    build_pipeline(cfg.train_dataloader.dataset.pipeline)


def test_dino_variant_config_builds_its_pipeline():
    cfg = load('maskcontrast-dino-sal_dino-vit-s16_40e_voc-512')
    assert cfg.model.freeze_backbone and cfg.model.backbone.type == 'DinoVisionTransformer'
    assert cfg.model.queue_size % cfg.train_dataloader.batch_size == 0
    build_pipeline(cfg.train_dataloader.dataset.pipeline)
