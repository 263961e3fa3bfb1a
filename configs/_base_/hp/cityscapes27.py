# HP, Hidden Positives (Seong et al., CVPR 2023) on Cityscapes-27 (docs/methods/hp.md, HP's
# json/server/cityscapes.json, the same for ViT-S and ViT-B): five crops at 224 px with the
# photometric view. Evaluated at 320 px with the dense CRF (no flip), online head, cluster +
# linear probes.
_base_ = ['../models/hp.py', '../datasets/cityscapes27_five_crop.py', '../default_runtime.py',
          '../schedules/hp_adamw.py', './five_crop_train.py']
model = dict(decode_head=dict(
    num_classes=_base_.num_classes, channels=512, pool_size=2048, ema_momentum=0.999,
    loss_hp=dict(temperature=0.6, neg_ratio=0.02),
    loss_consistency=dict(type='PatchConsistencyLoss', loss_weight=0.05)))
train_pipeline = [*_base_.train_pipeline[:-1], _base_.hp_photometric_view,
                  dict(type='PackMultiViewSegInputs')]
train_dataloader = dict(_base_.hp_loader, dataset=dict(pipeline=train_pipeline))
# 30 epochs over the crops; HP validates every 100 iterations, here once per epoch.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=30, val_interval=1)
warmup = 50  # iterations of the λ ramp 0 → 1 (HPLambdaHook)
renew_interval = 20  # iterations between Pool_sp renewals (ReferencePoolHook)
custom_hooks = [dict(type='HPLambdaHook', warmup=warmup),
                dict(type='ReferencePoolHook', batch_size=64, renew_interval=renew_interval)]
