# CAUSE-MLP step 2, front-door adjustment (reference train_front_door_mlp.py) on frozen
# DINO ViT-S/8, COCO-Stuff-27: five crops at 224, evaluated at 320.
# Needs the clusterbook of cause-mediator_dino-vit-s8_1e_cocostuff27-320.py.
# Step 3: cause-mlp-probe_dino-vit-s8_1e_cocostuff27-320.py.
_base_ = [
    '../_base_/models/cause-mlp_dino-vit-s8.py', '../_base_/datasets/cocostuff27.py',
    '../_base_/default_runtime.py', '../_base_/cause/cause_front_door.py',
    '../_base_/cause/cause_train_cocostuff27.py'
]
clusterbook_file = 'work_dirs/cause-mediator_dino-vit-s8_1e_cocostuff27-320/clusterbook_2048.npy'
model = dict(
    decode_head=dict(
        num_classes=27, clusterbook_file=clusterbook_file, bank_size=100, bank_keep_ratio=0.5,
        loss_front=dict(type='CauseContrastiveLoss', temperature=0.07, pos_thresh=0.3,
                        neg_thresh=0.1)))
optim_wrapper = dict(clip_grad=dict(max_norm=0.1), optimizer=dict(weight_decay=0.0001))
train_crop_size = 224  # the training crops (cause_loader_224)
train_dataloader = {{_base_.cause_loader_224}}
custom_hooks = [dict(type='IterationSeedHook', seed=0)]
