# HP, Hidden Positives (Seong et al., CVPR 2023) on Potsdam-3 (docs/methods/hp.md, HP's
# json/server/potsdam.json, the same for ViT-S and ViT-B): the uncropped tiles at 224 px; α = 0,
# so no photometric view. Evaluated at 320 px with the dense CRF (no flip), online head, cluster +
# linear probes.
_base_ = ['../models/hp.py', '../datasets/potsdam3_train224.py', '../default_runtime.py',
          '../schedules/hp_adamw.py']
model = dict(decode_head=dict(
    num_classes=_base_.num_classes, channels=256, pool_size=1024, ema_momentum=0.999,
    loss_hp=dict(temperature=0.4, neg_ratio=1.0), loss_consistency=None))
train_dataloader = dict(batch_size=64, drop_last=True,
                        sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True))
# 10 epochs over the tiles; HP validates every 50 iterations, here once per epoch.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=10, val_interval=1)
warmup = 100  # iterations of the λ ramp 0 → 1 (HPLambdaHook)
renew_interval = 20  # iterations between Pool_sp renewals (ReferencePoolHook)
custom_hooks = [dict(type='HPLambdaHook', warmup=warmup),
                dict(type='ReferencePoolHook', batch_size=64, renew_interval=renew_interval)]
