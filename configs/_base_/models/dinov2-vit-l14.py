# The frozen dinov2-vit-l14 without a head, in a FrozenBackboneSegmentor: tools (selfcheck's
# backbone timing, maskcontrast_dino_saliency.py) and docs/own_images.md build it.
_base_ = ['./frozen_backbone.py', '../backbones/dinov2-vit-l14.py']
model = dict(backbone=_base_.backbone)
