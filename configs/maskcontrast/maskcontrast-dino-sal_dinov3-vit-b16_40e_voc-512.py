# MaskContrast on a frozen DINOv3 ViT-B/16 with DINO saliency masks, PASCAL VOC 2012 (not in the
# paper; configs/_base_/maskcontrast/dino_saliency.py: the masks, the frozen shared backbone and
# the ASPP rates for this patch grid). Scored by K-means at 512 px (padded to the patch multiple).
_base_ = ['../_base_/maskcontrast/dino_saliency.py', '../_base_/backbones/dinov3-vit-b16.py']
model = dict(backbone=_base_.backbone, decode_head=dict(
    dilations=_base_.aspp_dilations[f'p{_base_.patch}']))
