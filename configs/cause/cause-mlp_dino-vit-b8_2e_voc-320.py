# CAUSE-MLP step 2, front-door adjustment (reference train_front_door_mlp.py) on frozen
# DINO ViT-B/8, PASCAL VOC: super crops at 224, evaluated at 320.
# Needs the clusterbook of cause-mediator_dino-vit-b8_1e_voc-320.py.
# Step 3: cause-mlp-probe_dino-vit-b8_1e_voc-320.py.
_base_ = [
    '../_base_/models/cause-mlp_dino-vit-b8.py', '../_base_/datasets/pascal_voc_320.py',
    '../_base_/default_runtime.py', '../_base_/cause/cause_front_door.py',
    '../_base_/cause/cause_train_voc.py'
]
clusterbook_file = 'work_dirs/cause-mediator_dino-vit-b8_1e_voc-320/clusterbook_2048.npy'
model = dict(
    decode_head=dict(
        num_classes=21, clusterbook_file=clusterbook_file, bank_size=100, bank_keep_ratio=0.5,
        loss_front=dict(type='CauseContrastiveLoss', temperature=0.07, pos_thresh=0.3,
                        neg_thresh=0.1)))
# max_norm is COCO-Stuff's: the reference's step-2 script has no VOC setting
# (docs/methods/cause.md#pascal-voc)
optim_wrapper = dict(clip_grad=dict(max_norm=0.1), optimizer=dict(weight_decay=0.0001))
train_crop_size = 224  # the training crops (cause_loader_224)
train_dataloader = {{_base_.cause_loader_224}}
custom_hooks = [dict(type='IterationSeedHook', seed=0)]
