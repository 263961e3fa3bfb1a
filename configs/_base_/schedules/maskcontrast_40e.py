# MaskContrast pre-training schedule (docs/methods/maskcontrast.md): SGD lr 0.004, momentum
# 0.9, weight decay 1e-4 on every parameter, 40 epochs, poly decay updated once per epoch:
# epoch e (0-based) runs at lr·(1 − e/40)^0.9. mmengine's PolyLR reaches 0 at `end − begin − 1`,
# so `end=41` gives exactly that factor for e = 0..39 (`end=40` would zero the last epoch).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.004, momentum=0.9, weight_decay=1e-4, nesterov=False))
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=41, by_epoch=True,
         convert_to_iter_based=False)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=40, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=True, interval=5, max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'),
    cluster_matching=dict(type='ClusterMatchingHook'))
