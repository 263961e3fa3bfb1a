# The frozen dinov2-vit-b14 without a head (tools/selfcheck's backbone timing, docs/own_images.md).
_base_ = ['./frozen_backbone.py', '../backbones/dinov2-vit-b14.py']
model = dict(backbone=_base_.backbone, data_preprocessor=dict(size_divisor=_base_.patch))
