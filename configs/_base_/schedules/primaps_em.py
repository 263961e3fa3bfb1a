# PriMaPs-EM schedule (docs/methods/primaps_em.md): batch 32 (drop_last), Adam 5e-3 constant
# for every head parameter (cluster probe, θ_R, linear probe), 2 warm-up epochs of the cluster
# probe (the reference's init run) + 50 EM epochs, validation every epoch, θ_M EMA every 10
# iterations capped at 0.98. Seed 0. Keeps the best θ_M val mIoU checkpoint and the last one.
warmup_epochs = 2
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=5e-3))
param_scheduler = []
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=52, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # the best θ_M checkpoint among EM epochs only (the reference's init is a separate run)
    checkpoint=dict(type='BestAfterWarmupCheckpointHook', warmup=warmup_epochs, by_epoch=True,
                    interval=1, max_keep_ckpts=1, save_best='cluster/mIoU', rule='greater',
                    save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'),
    cluster_matching=dict(type='ClusterMatchingHook'))
# PCA initialisation on every pixel of the reference's sample: batch indices 0-92 of the
# shuffled drop_last loader (93 batches; Cityscapes has only 92). The PCA streams D×D moments,
# so the sample size costs time, not memory.
custom_hooks = [
    dict(type='PrototypeInitHook', method='pca', num_batches=93),
    dict(type='PrimapsEMHook', warmup_epochs=warmup_epochs, interval=10, max_decay=0.98),
]
