# DINO ViT-S/16, official weights; frozen (docs/backbones.md). A leaf composes
# it as `model = dict(backbone=_base_.backbone)`; the model takes the width and patch from it.
embed_dims, patch = 384, 16
backbone_checkpoint = ('https://dl.fbaipublicfiles.com/dino/dino_deitsmall16_pretrain/'
                       'dino_deitsmall16_pretrain.pth')
backbone = dict(type='DinoVisionTransformer', arch='small', patch_size=patch,
                init_cfg=dict(type='Pretrained', checkpoint=backbone_checkpoint))
