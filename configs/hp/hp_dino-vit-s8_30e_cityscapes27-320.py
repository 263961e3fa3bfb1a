# HP, Hidden Positives (Seong et al., CVPR 2023) on frozen DINO ViT-S/8 (the 300-epoch S/8
# teacher, docs/methods/stego.md#quirks Q18), Cityscapes-27 (docs/methods/hp.md; HP's settings for
# this dataset: configs/_base_/hp/cityscapes27.py). sigma stays HP's 28 for every backbone (the
# side of its /8 grid at 224 px): not tuned for /14 or /16 grids.
_base_ = [
    '../_base_/hp/cityscapes27.py',
    '../_base_/backbones/dino-vit-s8-300ep.py',
]
model = dict(backbone=_base_.backbone)
