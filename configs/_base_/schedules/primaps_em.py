# PriMaPs-EM schedule (spec primaps A.5, A.6, A.10): batch 32 (drop_last), Adam 5e-3 constant
# for every head parameter (cluster probe, θ_R, linear probe), 2 warm-up epochs of the cluster
# probe (the reference's init run) + 50 EM epochs, validation every epoch, θ_M EMA every 10
# iterations capped at 0.98. Seed 0. Keeps the best θ_M val mIoU checkpoint and the last one.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=5e-3))
param_scheduler = []
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=52, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=True, interval=1, max_keep_ckpts=1,
                    save_best='cluster/mIoU', rule='greater', save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'),
    cluster_matching=dict(type='ClusterMatchingHook'))
# The reference's PCA uses all features of 93 batches; 8 batches subsampled to 200k pixels
# keep the memory bounded (14 GB for ViT-B otherwise).
custom_hooks = [
    dict(type='PrototypeInitHook', method='pca', num_batches=8, max_samples=200_000),
    dict(type='PrimapsEMHook', warmup_epochs=2, interval=10, max_decay=0.98),
]
