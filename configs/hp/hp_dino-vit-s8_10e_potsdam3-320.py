# HP, Hidden Positives (Seong et al., CVPR 2023) on frozen DINO ViT-S/8, Potsdam-3
# (docs/methods/hp.md, HP's json/server/potsdam.json). Train on the uncropped tiles at 224 px.
# Evaluate at 320 px with the dense CRF (no flip), online head, cluster + linear probes. Needed for
# PriMaPs-EM's "+HP" row (configs/primaps_em/primaps-em-hp_dino-vit-s8_50e_potsdam3-320.py).
_base_ = [
    '../_base_/models/hp_dino-vit-s8.py', '../_base_/datasets/potsdam3_train224.py',
    '../_base_/default_runtime.py', '../_base_/schedules/hp_adamw.py'
]
model = dict(
    decode_head=dict(
        channels=256, num_classes=3, pool_size=1024, ema_momentum=0.999,
        loss_hp=dict(type='HiddenPositiveLoss', temperature=0.4, base_temperature=0.07,
                     neg_ratio=1.0, chunk_size=784),
        loss_consistency=None))
# α = 0, so no photometric view.
train_dataloader = dict(
    batch_size=64,
    drop_last=True,
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True))
# 10 epochs over the tiles; HP validates every 50 iterations, here once per epoch.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=10, val_interval=1)
warmup = 100  # iterations of the λ ramp 0 → 1 (HPLambdaHook)
renew_interval = 20  # iterations between Pool_sp renewals (ReferencePoolHook)
custom_hooks = [
    dict(type='IterationSeedHook', seed=0),
    dict(type='HPLambdaHook', warmup=warmup),
    dict(type='ReferencePoolHook', batch_size=64, renew_interval=renew_interval),
]
