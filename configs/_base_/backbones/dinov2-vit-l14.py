# DINOv2 ViT-L/14, official weights; frozen (docs/backbones.md). A leaf composes
# it as `model = dict(backbone=_base_.backbone)`; the model takes the width and patch from it.
embed_dims, patch = 1024, 14
backbone_checkpoint = ('https://dl.fbaipublicfiles.com/dinov2/dinov2_vitl14/'
                       'dinov2_vitl14_pretrain.pth')
backbone = dict(type='DinoV2VisionTransformer', arch='large', patch_size=patch,
                init_cfg=dict(type='Pretrained', checkpoint=backbone_checkpoint))
