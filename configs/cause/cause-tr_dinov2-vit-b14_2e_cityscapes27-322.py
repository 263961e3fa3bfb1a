# CAUSE-TR step 2, front-door adjustment (reference train_front_door_tr.py) on frozen
# DINOv2 ViT-B/14, Cityscapes-27: five crops at 322, evaluated at 322.
# Needs the clusterbook of cause-mediator_dinov2-vit-b14_1e_cityscapes27-322.py.
# Step 3: cause-tr-probe_dinov2-vit-b14_5e_cityscapes27-322.py.
_base_ = [
    '../_base_/models/cause-tr_dinov2-vit-b14.py', '../_base_/datasets/cityscapes27_322.py',
    '../_base_/default_runtime.py', '../_base_/cause/cause_front_door.py',
    '../_base_/cause/cause_train_cityscapes27.py'
]
clusterbook_file = ('work_dirs/cause-mediator_dinov2-vit-b14_1e_cityscapes27-322/'
                    'clusterbook_2048.npy')
model = dict(
    decode_head=dict(
        num_classes=27, clusterbook_file=clusterbook_file, bank_size=100, bank_keep_ratio=0.5,
        loss_front=dict(type='CauseContrastiveLoss', temperature=0.07, pos_thresh=0.3,
                        neg_thresh=0.1)))
optim_wrapper = dict(clip_grad=dict(max_norm=1.0), optimizer=dict(weight_decay=0.0))
train_crop_size = 322  # the training crops (cause_loader_322)
train_dataloader = {{_base_.cause_loader_322}}
custom_hooks = [dict(type='IterationSeedHook', seed=0)]
