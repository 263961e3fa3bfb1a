# DINOv2 ViT-g/14, official weights; frozen (docs/backbones.md). A leaf composes
# it as `model = dict(backbone=_base_.backbone)`; the model takes the width and patch from it.
embed_dims, patch = 1536, 14
backbone_checkpoint = ('https://dl.fbaipublicfiles.com/dinov2/dinov2_vitg14/'
                       'dinov2_vitg14_pretrain.pth')
backbone = dict(type='DinoV2VisionTransformer', arch='giant', patch_size=patch,
                init_cfg=dict(type='Pretrained', checkpoint=backbone_checkpoint))
