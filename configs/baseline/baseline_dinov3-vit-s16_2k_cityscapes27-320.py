# DINO baseline (frozen DINOv3 ViT-S/16 + cosine cluster probe) on Cityscapes-27: the "baseline"
# row of the USS tables (docs/methods/baseline.md). Prototypes start from the PCA of the features
# of 93 batches of 32 (PriMaPs' initialisation) and train by online spherical k-means (Adam 5e-3,
# batch 32). Evaluated at 320x320 centre crops with the Hungarian metric.
_base_ = [
    '../_base_/models/baseline.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/frozen_probe_2k.py',
    '../_base_/backbones/dinov3-vit-s16.py',
    '../_base_/datasets/cityscapes27.py',
]
model = dict(backbone=_base_.backbone, decode_head=dict(num_classes=_base_.num_classes))
train_dataloader = dict(batch_size=32)
custom_hooks = [dict(type='PrototypeInitHook', method='pca', num_batches=93)]
