# HP, Hidden Positives (Seong et al., CVPR 2023) on frozen DINO ViT-S/8, Potsdam-3: the B/8 recipe
# of hp_dino-vit-b8_10e_potsdam3-320.py on the ViT-S/8 backbone (needed for PriMaPs-EM's "+HP" row,
# configs/primaps_em/primaps-em-hp_dino-vit-s8_50e_potsdam3-320.py).
_base_ = ['./hp_dino-vit-b8_10e_potsdam3-320.py']
model = dict(
    # STEGO/HP load the 300-epoch DINO ViT-S/8 teacher (docs/methods/stego.md#quirks Q18).
    backbone=dict(
        arch='small',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://dl.fbaipublicfiles.com/dino/dino_deitsmall8_300ep_pretrain/'
            'dino_deitsmall8_300ep_pretrain.pth')),
    decode_head=dict(in_channels=384))
