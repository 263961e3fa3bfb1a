# CAUSE step 1, the mediator (Kim et al., Pattern Recognition; reference train_mediator.py)
# on frozen DINO ViT-S/8, Cityscapes-27 five crops at 320: fits the 2048-concept clusterbook and
# writes it to its work dir (or to `clusterbook_file`), where the CAUSE-MLP and CAUSE-TR configs
# of this backbone and dataset read it. See configs/cause/README.md for the three steps.
_base_ = [
    '../_base_/models/cause-mediator_dino-vit-s8.py', '../_base_/datasets/cityscapes27.py',
    '../_base_/default_runtime.py', '../_base_/cause/cause_mediator.py',
    '../_base_/cause/cause_train_cityscapes27.py'
]
clusterbook_file = None  # None: <work dir>/clusterbook_2048.npy, where steps 2-3 look
model = dict(decode_head=dict(num_classes=27))
train_crop_size = 320  # the training crops (cause_loader_320)
train_dataloader = {{_base_.cause_loader_320}}
val_dataloader = None
val_evaluator = None
test_dataloader = None
test_evaluator = None
custom_hooks = [
    dict(type='IterationSeedHook', seed=0),
    dict(type='CauseClusterbookHook', clusterbook_file=clusterbook_file),
]
