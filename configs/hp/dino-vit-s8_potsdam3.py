# HP, Hidden Positives (Seong et al., CVPR 2023) on frozen DINO ViT-S/8, Potsdam-3: the B/8
# recipe of dino-vit-b8_potsdam3.py on the ViT-S/8 backbone (needed for PriMaPs-EM's "+HP" row,
# configs/primaps_em/dino_vits8_hp_potsdam.py).
_base_ = ['./dino-vit-b8_potsdam3.py']
model = dict(
    # STEGO/HP load the 300-epoch DINO ViT-S/8 teacher (spec hp_stego §1.1).
    backbone=dict(
        arch='small',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://dl.fbaipublicfiles.com/dino/dino_deitsmall8_300ep_pretrain/'
            'dino_deitsmall8_300ep_pretrain.pth')),
    decode_head=dict(in_channels=384))
