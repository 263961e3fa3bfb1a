# CAUSE-TR step 2, front-door adjustment (reference train_front_door_tr.py) on frozen
# DINOv2 ViT-B/14, PASCAL VOC: super crops at 322, evaluated at 322.
# Needs the clusterbook of cause-mediator_dinov2-vit-b14_1e_voc-322.py.
# Step 3: cause-tr-probe_dinov2-vit-b14_5e_voc-322.py.
_base_ = [
    '../_base_/models/cause-tr_dinov2-vit-b14.py', '../_base_/datasets/pascal_voc_322.py',
    '../_base_/default_runtime.py', '../_base_/cause/cause_front_door.py',
    '../_base_/cause/cause_train_voc.py'
]
clusterbook_file = 'work_dirs/cause-mediator_dinov2-vit-b14_1e_voc-322/clusterbook_2048.npy'
model = dict(
    decode_head=dict(
        num_classes=21, clusterbook_file=clusterbook_file, bank_size=100, bank_keep_ratio=0.5,
        loss_front=dict(type='CauseContrastiveLoss', temperature=0.07, pos_thresh=0.3,
                        neg_thresh=0.1)))
# max_norm is COCO-Stuff's: the reference's step-2 script has no VOC setting
# (docs/methods/cause.md#pascal-voc)
optim_wrapper = dict(clip_grad=dict(max_norm=2.0), optimizer=dict(weight_decay=0.0001))
train_crop_size = 322  # the training crops (cause_loader_322)
train_dataloader = {{_base_.cause_loader_322}}
custom_hooks = [dict(type='IterationSeedHook', seed=0)]
