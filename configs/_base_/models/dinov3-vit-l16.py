# The frozen dinov3-vit-l16 without a head, in a FrozenBackboneSegmentor: tools (selfcheck's
# backbone timing, maskcontrast_dino_saliency.py) and docs/own_images.md build it.
_base_ = ['./frozen_backbone.py', '../backbones/dinov3-vit-l16.py']
model = dict(backbone=_base_.backbone)
