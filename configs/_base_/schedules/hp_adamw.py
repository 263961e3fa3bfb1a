# HP's optimisation (docs/methods/hp.md#hyper-parameters, #quirks Q2, Q12): AdamW lr 5e-4 wd 0.1 on
# the head, Adam (AdamW with no decay) lr 5e-4 on the projection head, 1e-3 on the linear probe,
# 5e-3 on the cluster probe; gradient clipping at norm 10 on the head only; AMP with
# GradScaler(init_scale 2048, growth_interval 1000); constant LR. On a CPU use --cfg-options
# optim_wrapper.type=OptimWrapper optim_wrapper.loss_scale=None.
optim_wrapper = dict(
    type='AmpOptimWrapper',
    constructor='SubsetClipOptimWrapperConstructor',
    loss_scale=dict(init_scale=2048.0, growth_interval=1000),
    optimizer=dict(type='AdamW', lr=5e-4, weight_decay=0.1),
    clip_grad=dict(max_norm=10.0),
    clip_prefixes=('decode_head.linear.', 'decode_head.nonlinear.'),
    paramwise_cfg=dict(custom_keys={
        'decode_head.project_head': dict(decay_mult=0.0),
        'decode_head.linear_probe': dict(lr_mult=2.0, decay_mult=0.0),
        'decode_head.cluster_probe': dict(lr_mult=10.0, decay_mult=0.0),
    }))
param_scheduler = []
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=True, interval=1, max_keep_ckpts=2,
                    save_best='cluster/mIoU', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # model randomness (dropout, sampled points) seeded per iteration: exact resume
    iteration_seed=dict(type='IterationSeedHook', seed=0),
    visualization=dict(type='SegVisualizationHook'),
    cluster_matching=dict(type='ClusterMatchingHook'))
