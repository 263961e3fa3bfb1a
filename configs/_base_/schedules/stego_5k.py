# STEGO's schedule (docs/methods/stego.md#hyper-parameters): 5,000 steps, constant LR, fp32, no
# clipping. Adam: head 5e-4, linear and cluster probes 5e-3 (lr_mult 10), no weight decay.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=5e-4),
    paramwise_cfg=dict(custom_keys={
        'decode_head.linear_probe': dict(lr_mult=10.0),
        'decode_head.cluster_probe': dict(lr_mult=10.0),
    }))
param_scheduler = []
# STEGO validates every 100 steps without CRF; here every 500 with the test-time CRF.
train_cfg = dict(type='IterBasedTrainLoop', max_iters=5000, val_interval=500)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, interval=500, max_keep_ckpts=2,
                    save_best='cluster/mIoU', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # model randomness (dropout, sampled points) seeded per iteration: exact resume
    iteration_seed=dict(type='IterationSeedHook', seed=0),
    visualization=dict(type='SegVisualizationHook'),
    cluster_matching=dict(type='ClusterMatchingHook'))
