# CAUSE step 1, the mediator (reference train_mediator.py; docs/methods/cause.md): the 2048-concept
# clusterbook fitted by modularity maximisation on frozen patch features of the five crops.
# Adam lr 4e-3 (the reference's 1e-3 × 4 GPUs), no weight decay, one epoch (its StepLR(1, 0.2)
# never fires), AMP as the reference's autocast, batch 16 per GPU (4 GPUs in the reference).
# No validation: this stage predicts nothing. A checkpoint every 500 iterations (COCO five crops:
# ~15.5k iterations on one GPU, 3.9k on four; Cityscapes 930 / 232) lets an interrupted epoch
# resume at its next batch (ResumableEpochBasedTrainLoop). A leaf adds the model
# (configs/_base_/models/cause_mediator.py, a backbone base), the data
# (./cause_train_<dataset>.py) and no evaluation. The clusterbook goes to `clusterbook_file`,
# None: <work dir>/clusterbook_2048.npy, where steps 2-3 look.
# On a CPU: --cfg-options optim_wrapper.type=OptimWrapper optim_wrapper.loss_scale=None
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic',
                     optimizer=dict(type='Adam', lr=4e-3))
param_scheduler = []
train_cfg = dict(type='ResumableEpochBasedTrainLoop', max_epochs=1)
val_cfg = None
test_cfg = None
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=True, interval=1, max_keep_ckpts=1),
    iter_checkpoint=dict(type='IterCheckpointHook', interval=500, max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # model randomness (dropout, sampled points) seeded per iteration: exact resume
    iteration_seed=dict(type='IterationSeedHook', seed=0))
clusterbook_file = None
custom_hooks = [dict(type='CauseClusterbookHook', clusterbook_file=clusterbook_file)]
