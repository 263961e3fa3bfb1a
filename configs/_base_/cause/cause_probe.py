# CAUSE step 3, cluster-probe fine-tuning (reference fine_tuning_{mlp,tr}.py;
# docs/methods/cause.md): the step-2 head is frozen, a fresh cluster probe is fitted by the
# modularity objective to the EMA code and the linear probe goes on training. Adam lr 4e-3 for
# both probes (weight decay 1e-4 on the linear probe, none on Cityscapes), StepLR halving every
# 2 epochs, clipping of the linear probe at the step-2 max_norm, AMP, batch 16 per GPU.
# The reference's own step 3 also fine-tunes the EMA head with the linear probe's labels (the
# protocol of the paper's numbers): --cfg-options model.decode_head.train_head_ema=True; then
# head_ema is trained (with the linear probe's weight decay) and clipped with the linear probe,
# as the reference clips its whole segmentation module (clip_prefixes below; frozen parameters
# are never clipped, so the default protocol clips the linear probe alone). Besides the epoch
# checkpoints, one every 1000 iterations, from which an interrupted epoch resumes at its next
# batch (ResumableEpochBasedTrainLoop). A leaf composes the model (the step-2 head base
# configs/_base_/models/cause_{mlp,tr}.py, a backbone base) with clusterbook_file and
# `step_head` (front_door=False), merges `cause_optim.{mlp,tr}_probe` of
# ./cause_train_<dataset>.py (max_norm and weight_decay as step 2; VOC: no clipping), sets
# max_epochs (TR 5, MLP 1) and
#   custom_hooks = [dict(type='CauseHeadInitHook', checkpoint='work_dirs/<step-2 config>')]
optim_wrapper = dict(
    type='AmpOptimWrapper',
    constructor='SubsetClipOptimWrapperConstructor',
    loss_scale='dynamic',
    optimizer=dict(type='Adam', lr=4e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=2.0),
    clip_prefixes=('decode_head.linear_probe.', 'decode_head.head_ema.'),
    paramwise_cfg=dict(custom_keys={'decode_head.cluster_probe': dict(decay_mult=0.0)}))
param_scheduler = [dict(type='StepLR', step_size=2, gamma=0.5, by_epoch=True)]
train_cfg = dict(type='ResumableEpochBasedTrainLoop', max_epochs=5, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=True, interval=1, max_keep_ckpts=1,
                    save_best='cluster/mIoU', rule='greater'),
    iter_checkpoint=dict(type='IterCheckpointHook', interval=1000, max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # model randomness (dropout, sampled points) seeded per iteration: exact resume
    iteration_seed=dict(type='IterationSeedHook', seed=0),
    visualization=dict(type='SegVisualizationHook'),
    cluster_matching=dict(type='ClusterMatchingHook'))
step_head = dict(front_door=False)
