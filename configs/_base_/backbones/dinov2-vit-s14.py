# DINOv2 ViT-S/14, official weights; frozen (docs/backbones.md). A leaf composes
# it as `model = dict(backbone=_base_.backbone)`; the model takes the width and patch from it.
embed_dims, patch = 384, 14
backbone_checkpoint = ('https://dl.fbaipublicfiles.com/dinov2/dinov2_vits14/'
                       'dinov2_vits14_pretrain.pth')
backbone = dict(type='DinoV2VisionTransformer', arch='small', patch_size=patch,
                init_cfg=dict(type='Pretrained', checkpoint=backbone_checkpoint))
