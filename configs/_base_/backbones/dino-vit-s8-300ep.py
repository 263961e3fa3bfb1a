# DINO ViT-S/8, the 300-epoch teacher STEGO and HP load (docs/methods/stego.md#quirks Q18); frozen.
# `plain_backbone` is ./dino-vit-s8.py's (the PriMaPs masks of PriMaPs-EM on top of STEGO/HP).
_base_ = ['./dino-vit-s8.py']
plain_backbone = _base_.backbone
backbone_checkpoint = ('https://dl.fbaipublicfiles.com/dino/dino_deitsmall8_300ep_pretrain/'
                       'dino_deitsmall8_300ep_pretrain.pth')
backbone = dict(init_cfg=dict(checkpoint=backbone_checkpoint))
