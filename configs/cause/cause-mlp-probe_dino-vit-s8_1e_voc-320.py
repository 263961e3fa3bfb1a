# CAUSE-MLP step 3, cluster-probe fine-tuning (reference fine_tuning_mlp.py) on the
# step-2 head of cause-mlp_dino-vit-s8_2e_voc-320.py
# (DINO ViT-S/8, PASCAL VOC; super crops at 224, evaluated at 320).
# The paper's protocol: tools/test.py THIS_CONFIG CKPT --flip --crf (test_mlp.py).
_base_ = [
    '../_base_/models/dino-vit-s8.py', '../_base_/datasets/pascal_voc_320.py',
    '../_base_/default_runtime.py', '../_base_/cause/cause_probe.py',
    '../_base_/cause/cause_train_voc.py'
]
clusterbook_file = 'work_dirs/cause-mediator_dino-vit-s8_1e_voc-320/clusterbook_2048.npy'
model = dict(
    decode_head=dict(
        type='CauseMLPHead', in_channels=384, channels=90, num_classes=21,
        clusterbook_file=clusterbook_file, num_codebook=2048, proj_channels=2048,
        dropout_ratio=0.1, ema_momentum=0.99, grid_stride=4, cluster_alpha=3.0,
        front_door=False,
        loss_probe=dict(type='CauseModularityLoss', temperature=0.1)),
    test_cfg=dict(mode='whole', flip=False, crf=False))
# no clipping: the reference's step 3 clips on COCO-Stuff and Cityscapes only
optim_wrapper = dict(clip_grad=None, clip_prefixes=(), optimizer=dict(weight_decay=0.0001))
train_dataloader = {{_base_.cause_loader_224}}
train_cfg = dict(max_epochs=1)
step2_work_dir = 'work_dirs/cause-mlp_dino-vit-s8_2e_voc-320'
custom_hooks = [
    dict(type='IterationSeedHook', seed=0),
    dict(type='CauseHeadInitHook', checkpoint=step2_work_dir),
]
