# CAUSE-MLP step 3, cluster-probe fine-tuning (reference fine_tuning_mlp.py) on the
# step-2 head of cause-mlp_dino-vit-s8_2e_voc-320.py
# (DINO ViT-S/8, PASCAL VOC; super crops at 224, evaluated at 320).
# The paper's protocol: tools/test.py THIS_CONFIG CKPT --flip --crf (test_mlp.py).
_base_ = [
    '../_base_/models/cause-mlp_dino-vit-s8.py', '../_base_/datasets/pascal_voc_320.py',
    '../_base_/default_runtime.py', '../_base_/cause/cause_probe.py',
    '../_base_/cause/cause_train_voc.py'
]
clusterbook_file = 'work_dirs/cause-mediator_dino-vit-s8_1e_voc-320/clusterbook_2048.npy'
model = dict(
    decode_head=dict(num_classes=21, clusterbook_file=clusterbook_file, front_door=False))
# no clipping: the reference's step 3 clips on COCO-Stuff and Cityscapes only
optim_wrapper = dict(clip_grad=None, clip_prefixes=(), optimizer=dict(weight_decay=0.0001))
train_crop_size = 224  # the training crops (cause_loader_224)
train_dataloader = {{_base_.cause_loader_224}}
train_cfg = dict(max_epochs=1)
step2_work_dir = 'work_dirs/cause-mlp_dino-vit-s8_2e_voc-320'
custom_hooks = [
    dict(type='IterationSeedHook', seed=0),
    dict(type='CauseHeadInitHook', checkpoint=step2_work_dir),
]
