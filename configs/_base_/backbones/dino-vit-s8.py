# DINO ViT-S/8, official weights; frozen (docs/backbones.md). A leaf composes
# it as `model = dict(backbone=_base_.backbone)`; the model takes the width and patch from it.
embed_dims, patch = 384, 8
backbone_checkpoint = ('https://dl.fbaipublicfiles.com/dino/dino_deitsmall8_pretrain/'
                       'dino_deitsmall8_pretrain.pth')
backbone = dict(type='DinoVisionTransformer', arch='small', patch_size=patch,
                init_cfg=dict(type='Pretrained', checkpoint=backbone_checkpoint))
