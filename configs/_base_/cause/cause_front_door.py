# CAUSE step 2, front-door adjustment (reference train_front_door_{mlp,tr}.py;
# docs/methods/cause.md): the head trained by the concept-wise contrastive loss against its EMA
# teacher and the concept bank. Adam lr 4e-3 (1e-3 × 4 GPUs), 2 epochs, AMP, constant LR,
# batch 16 per GPU (the reference ran 4 GPUs). Gradient clipping on the head, projection and
# linear probe (not the cluster probe, which the reference does not train here); max_norm and
# weight_decay per dataset and head: `cause_optim` of ./cause_train_<dataset>.py.
# A leaf composes the model (configs/_base_/models/cause_{mlp,tr}.py, a backbone base) with
# clusterbook_file and the step-2 head settings `step_head` (bank_size=100, bank_keep_ratio=0.5,
# loss_front) and merges `cause_optim.{mlp,tr}` of ./cause_train_<dataset>.py.
# Validation once per epoch without flip/CRF (the reported numbers use
# tools/test.py --flip --crf on the step-3 model). Besides the epoch checkpoints, one every 1000
# iterations (~15.5k per epoch on one GPU for COCO five crops; each holds the 800 MiB bank), from
# which an interrupted epoch resumes at its next batch (ResumableEpochBasedTrainLoop). On a CPU:
#   --cfg-options optim_wrapper.type=OptimWrapper optim_wrapper.loss_scale=None
optim_wrapper = dict(
    type='AmpOptimWrapper',
    constructor='SubsetClipOptimWrapperConstructor',
    loss_scale='dynamic',
    optimizer=dict(type='Adam', lr=4e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=2.0),
    clip_prefixes=('decode_head.head.', 'decode_head.projection.', 'decode_head.linear_probe.'),
    paramwise_cfg=dict(custom_keys={'decode_head.cluster_probe': dict(decay_mult=0.0)}))
param_scheduler = []
train_cfg = dict(type='ResumableEpochBasedTrainLoop', max_epochs=2, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=True, interval=1, max_keep_ckpts=1),
    iter_checkpoint=dict(type='IterCheckpointHook', interval=1000, max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # model randomness (dropout, sampled points) seeded per iteration: exact resume
    iteration_seed=dict(type='IterationSeedHook', seed=0),
    visualization=dict(type='SegVisualizationHook'),
    cluster_matching=dict(type='ClusterMatchingHook'))
step_head = dict(
    bank_size=100, bank_keep_ratio=0.5,
    loss_front=dict(type='CauseContrastiveLoss', temperature=0.07, pos_thresh=0.3, neg_thresh=0.1))
