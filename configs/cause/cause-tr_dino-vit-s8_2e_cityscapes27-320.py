# CAUSE-TR step 2, front-door adjustment (reference train_front_door_tr.py) on frozen
# DINO ViT-S/8, Cityscapes-27: five crops at 320, evaluated at 320.
# Needs the clusterbook of cause-mediator_dino-vit-s8_1e_cityscapes27-320.py.
# Step 3: cause-tr-probe_dino-vit-s8_5e_cityscapes27-320.py.
_base_ = [
    '../_base_/models/cause-tr_dino-vit-s8.py', '../_base_/datasets/cityscapes27.py',
    '../_base_/default_runtime.py', '../_base_/cause/cause_front_door.py',
    '../_base_/cause/cause_train_cityscapes27.py'
]
clusterbook_file = 'work_dirs/cause-mediator_dino-vit-s8_1e_cityscapes27-320/clusterbook_2048.npy'
model = dict(
    decode_head=dict(
        num_classes=27, clusterbook_file=clusterbook_file, bank_size=100, bank_keep_ratio=0.5,
        loss_front=dict(type='CauseContrastiveLoss', temperature=0.07, pos_thresh=0.3,
                        neg_thresh=0.1)))
optim_wrapper = dict(clip_grad=dict(max_norm=1.0), optimizer=dict(weight_decay=0.0))
train_crop_size = 320  # the training crops (cause_loader_320)
train_dataloader = {{_base_.cause_loader_320}}
custom_hooks = [dict(type='IterationSeedHook', seed=0)]
