# DINOv2 ViT-L/14 with 4 registers, official weights; frozen (docs/backbones.md):
# ./dinov2-vit-l14.py with 4 register tokens and their weights.
_base_ = ['./dinov2-vit-l14.py']
backbone_checkpoint = ('https://dl.fbaipublicfiles.com/dinov2/dinov2_vitl14/'
                       'dinov2_vitl14_reg4_pretrain.pth')
backbone = dict(num_register_tokens=4, init_cfg=dict(checkpoint=backbone_checkpoint))
