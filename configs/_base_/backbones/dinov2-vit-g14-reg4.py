# DINOv2 ViT-g/14 with 4 registers, official weights; frozen (docs/backbones.md):
# ./dinov2-vit-g14.py with 4 register tokens and their weights.
_base_ = ['./dinov2-vit-g14.py']
backbone_checkpoint = ('https://dl.fbaipublicfiles.com/dinov2/dinov2_vitg14/'
                       'dinov2_vitg14_reg4_pretrain.pth')
backbone = dict(num_register_tokens=4, init_cfg=dict(checkpoint=backbone_checkpoint))
