# DINO ViT-S/8, official weights; frozen (docs/backbones.md). A leaf composes
# it: model.backbone, the preprocessor's size_divisor and the head's in_channels come from here.
embed_dims, patch = 384, 8
backbone_checkpoint = ('https://dl.fbaipublicfiles.com/dino/dino_deitsmall8_pretrain/'
                       'dino_deitsmall8_pretrain.pth')
backbone = dict(type='DinoVisionTransformer', arch='small', patch_size=patch,
                init_cfg=dict(type='Pretrained', checkpoint=backbone_checkpoint))
