# HP, Hidden Positives (Seong et al., CVPR 2023) on frozen DINO ViT-S/8, COCO-Stuff-27
# (docs/methods/hp.md, HP's json/server/cocostuff.json). Train on five crops at 224 px (make them as
# described in the dataset config). Evaluate at 320 px with the dense CRF (no flip), online
# head, cluster + linear probes.
_base_ = [
    '../_base_/models/hp_dino-vit-s8.py', '../_base_/datasets/cocostuff27_five_crop.py',
    '../_base_/default_runtime.py', '../_base_/schedules/hp_adamw.py',
    '../_base_/hp/five_crop_train.py'
]
model = dict(
    decode_head=dict(
        channels=512, num_classes=27, pool_size=2048, ema_momentum=0.99,
        loss_hp=dict(type='HiddenPositiveLoss', temperature=0.8, base_temperature=0.07,
                     neg_ratio=0.02, chunk_size=784),
        loss_consistency=dict(type='PatchConsistencyLoss', loss_weight=0.05)))
train_pipeline = {{_base_.hp_five_crop_pipeline}}
train_dataloader = {{_base_.hp_five_crop_loader}}
# 3 epochs over the crops; HP validates every 100 iterations, here once per epoch.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=3, val_interval=1)
warmup = 1000  # iterations of the λ ramp 0 → 1 (HPLambdaHook)
renew_interval = 100  # iterations between Pool_sp renewals (ReferencePoolHook)
custom_hooks = [
    dict(type='IterationSeedHook', seed=0),
    dict(type='HPLambdaHook', warmup=warmup),
    dict(type='ReferencePoolHook', batch_size=64, renew_interval=renew_interval),
]
