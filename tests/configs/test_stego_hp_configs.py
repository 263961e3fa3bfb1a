"""The STEGO and HP configs load and carry the papers' settings.

Settings: docs/methods/stego.md#hyper-parameters, docs/methods/hp.md#hyper-parameters.
"""
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'

#: The backbones of the matrix (configs/README.md): width, STEGO's ViT-S settings or not.
BACKBONES = {'dino-vit-s8': (384, True), 'dino-vit-b8': (768, False),
             'dinov2-vit-b14': (768, False), 'dinov3-vit-s16': (384, True),
             'dinov3-vit-b16': (768, False), 'dinov3-vit-l16': (1024, False)}
CROP = {bb: 322 if bb.endswith('14') else 320 for bb in BACKBONES}
# (weight self, knn, rand, shift self, knn, rand) per dataset and ViT-S or not
# (docs/methods/stego.md): only COCO-Stuff has a ViT-B setting of its own; ViT-L takes ViT-B's.
STEGO_SETTINGS = {
    ('cocostuff27', True): (0.67, 0.25, 0.63, 0.08, 0.02, 0.66),
    ('cocostuff27', False): (0.1, 1.0, 0.1538476, 0.12, 0.2, 1.0),
    ('cityscapes27', True): (1.0, 0.5774535, 0.9058763, 0.4582847, 0.1754347, 0.3136124),
    ('cityscapes27', False): (1.0, 0.5774535, 0.9058763, 0.4582847, 0.1754347, 0.3136124),
    ('potsdam3', True): (0.67, 0.25, 0.63, 0.08, 0.02, 0.46),
    ('potsdam3', False): (0.67, 0.25, 0.63, 0.08, 0.02, 0.46),
}
STEGO = {f'stego_{bb}_5k_{ds}-{CROP[bb]}': STEGO_SETTINGS[ds, small]
         for bb, (_, small) in BACKBONES.items()
         for ds in ('cocostuff27', 'cityscapes27', 'potsdam3')}
# (D, epochs, τ, α, ρ, pool, renew, ema, warmup) per dataset (docs/methods/hp.md), any backbone
HP_SETTINGS = {
    'cocostuff27': (512, 3, 0.8, 0.05, 0.02, 2048, 100, 0.99, 1000),
    'cityscapes27': (512, 30, 0.6, 0.05, 0.02, 2048, 20, 0.999, 50),
    'potsdam3': (256, 10, 0.4, 0.0, 1.0, 1024, 20, 0.999, 100),
}
HP = {f'hp_{bb}_{s[1]}e_{ds}-{CROP[bb]}': s for bb in BACKBONES for ds, s in HP_SETTINGS.items()}
# PriMaPs-EM on top: (SotA config, plain PriMaPs-EM config whose masks are reused)
ON_TOP = {}
for bb in BACKBONES:
    for ds, s in HP_SETTINGS.items():
        plain = f'primaps-em_{bb}_52e_{ds}-{CROP[bb]}'
        ON_TOP[f'primaps-em-stego_{bb}_50e_{ds}-{CROP[bb]}'] = (
            f'stego/stego_{bb}_5k_{ds}-{CROP[bb]}', plain)
        ON_TOP[f'primaps-em-hp_{bb}_50e_{ds}-{CROP[bb]}'] = (
            f'hp/hp_{bb}_{s[1]}e_{ds}-{CROP[bb]}', plain)


def build_head(head, width=16):
    """The decode head a config describes (HP heads name the views their losses read), on
    ``width``-channel features (the segmentor gives it the backbone's)."""
    init_default_scope('mmseg')
    return MODELS.build(dict(head, in_channels=width))


@pytest.mark.parametrize('name', sorted(STEGO))
def test_stego_config(name):
    cfg = Config.fromfile(CONFIGS / 'stego' / f'{name}.py')
    loss = cfg.model.decode_head.loss_corr
    got = (loss.weight_self, loss.weight_knn, loss.weight_rand, loss.shift_self, loss.shift_knn,
           loss.shift_rand)
    assert got == STEGO[name]
    assert (loss.feature_samples, loss.neg_samples) == (11, 5)
    assert cfg.model.decode_head.channels == 70
    width = BACKBONES[name.split('_')[1]][0]
    assert 'in_channels' not in cfg.model.decode_head and cfg.embed_dims == width
    assert cfg.model.backbone.arch == {384: 'small', 768: 'base', 1024: 'large'}[width]
    assert cfg.model.test_cfg.flip and cfg.model.test_cfg.crf
    data = cfg.train_dataloader
    assert data.batch_size == 16 and data.dataset.type == 'KNNPairDataset'
    _, backbone, _, dataset = name.split('_')
    knn = f"nns_{backbone}_{dataset.rsplit('-', 1)[0]}_train.npz"
    assert data.dataset.num_neighbors == 7 and data.dataset.knn_file.endswith('/' + knn)
    assert cfg.train_cfg.max_iters == 5000
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=5e-4)


@pytest.mark.parametrize('name', sorted(HP))
def test_hp_config(name):
    cfg = Config.fromfile(CONFIGS / 'hp' / f'{name}.py')
    dim, epochs, tau, alpha, rho, pool, renew, ema, warmup = HP[name]
    head = cfg.model.decode_head
    assert head.channels == dim and head.pool_size == pool and head.ema_momentum == ema
    assert head.loss_hp.temperature == tau and head.loss_hp.neg_ratio == rho
    assert head.loss_hp.base_temperature == 0.07
    if alpha:
        assert head.loss_consistency.loss_weight == alpha
        assert build_head(head).view_names == ('img_aug', )
        view = cfg.train_dataloader.dataset.pipeline[-2]
        assert view.type == 'NormalisedPhotometricView' and view.grayscale_prob == 0.2
    else:
        assert head.loss_consistency is None and build_head(head).view_names == ()
    assert cfg.model.backbone.out_attn and not cfg.model.test_cfg.get('flip', False)
    assert cfg.train_cfg.max_epochs == epochs and cfg.train_dataloader.batch_size == 64
    hooks = {h['type']: h for h in cfg.custom_hooks}
    assert hooks['HPLambdaHook']['warmup'] == warmup
    assert hooks['ReferencePoolHook']['renew_interval'] == renew
    optim = cfg.optim_wrapper
    assert optim.optimizer == dict(type='AdamW', lr=5e-4, weight_decay=0.1)
    assert optim.clip_grad == dict(max_norm=10.0)


@pytest.mark.parametrize('name', sorted(ON_TOP))
def test_primaps_em_on_top_matches_its_sota_config(name):
    sota_name, plain_name = ON_TOP[name]
    cfg = Config.fromfile(CONFIGS / 'primaps_em' / f'{name}.py')
    sota = Config.fromfile(CONFIGS / f'{sota_name}.py')
    plain = Config.fromfile(CONFIGS / 'primaps_em' / f'{plain_name}.py')
    wrapper = cfg.model.backbone
    assert wrapper.type == 'FrozenCodeBackbone'
    for key in ('type', 'arch', 'patch_size', 'init_cfg'):
        assert wrapper.backbone[key] == sota.model.backbone[key], key
    for key in ('channels', 'num_classes'):
        assert wrapper.head.get(key) == sota.model.decode_head.get(key), key
    assert 'in_channels' not in cfg.model.decode_head  # the code width (tests/test_configs.py)
    assert cfg.train_dataloader.dataset.pipeline == plain.train_dataloader.dataset.pipeline
    hooks = {h['type']: h for h in cfg.custom_hooks}
    assert 'checkpoint' not in hooks['CheckpointPrototypeInitHook']  # the wrapper's
    # the best checkpoint of the SotA config's default work dir, as mmengine names it
    unit = 'iter' if sota.train_cfg.type == 'IterBasedTrainLoop' else 'epoch'
    assert sota.default_hooks.checkpoint.save_best == 'cluster/mIoU'
    assert wrapper.checkpoint == cfg.sota_checkpoint == (
        f'work_dirs/{Path(sota_name).name}/best_cluster_mIoU_{unit}_*.pth')
    assert cfg.primaps_precompute.model == plain.model  # the plain backbone's PriMaPs masks
    assert hooks['PrimapsEMHook']['warmup_epochs'] == 0 and 'PrototypeInitHook' not in hooks
    assert cfg.default_hooks.checkpoint.warmup == 0
