# PriMaPs-EM on top of a trained STEGO / HP / CAUSE-TR model
# (docs/methods/primaps_em.md#variants-on-stego-and-hp): the prototypes start from that model's
# cluster centres (CheckpointPrototypeInitHook reads the checkpoint of the leaf's
# FrozenCodeBackbone): no PCA, no warm-up, 50 EM epochs.
_base_ = ['./primaps_em.py']
warmup_epochs = 0  # no warm-up: every EM epoch is a best-checkpoint candidate
train_cfg = dict(max_epochs=50)
default_hooks = dict(checkpoint=dict(warmup=warmup_epochs))
custom_hooks = [
    dict(type='CheckpointPrototypeInitHook'),
    dict(type='PrimapsEMHook', warmup_epochs=warmup_epochs, interval=10, max_decay=0.98),
]
