# The frozen dino-vit-b8 without a head (tools/selfcheck's backbone timing, docs/own_images.md).
_base_ = ['./frozen_backbone.py', '../backbones/dino-vit-b8.py']
model = dict(backbone=_base_.backbone, data_preprocessor=dict(size_divisor=_base_.patch))
