# DINOv2 ViT-S/14 with 4 registers, official weights; frozen (docs/backbones.md):
# ./dinov2-vit-s14.py with 4 register tokens and their weights.
_base_ = ['./dinov2-vit-s14.py']
backbone_checkpoint = ('https://dl.fbaipublicfiles.com/dinov2/dinov2_vits14/'
                       'dinov2_vits14_reg4_pretrain.pth')
backbone = dict(num_register_tokens=4, init_cfg=dict(checkpoint=backbone_checkpoint))
