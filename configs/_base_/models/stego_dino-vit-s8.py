# STEGO model on frozen DINO ViT-S/8 (docs/methods/stego.md): 70-d projection head trained on
# 224-px crops; evaluation with flip averaging and the dense CRF. A config adds num_classes and
# the correlation loss.
_base_ = ['./dino-vit-s8.py']
model = dict(
    # STEGO/HP load the 300-epoch DINO ViT-S/8 teacher (docs/methods/stego.md#quirks Q18).
    backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://dl.fbaipublicfiles.com/dino/dino_deitsmall8_300ep_pretrain/'
            'dino_deitsmall8_300ep_pretrain.pth')),
    decode_head=dict(type='StegoHead', in_channels=384, channels=70, dropout_ratio=0.1),
    test_cfg=dict(mode='whole', flip=True, crf=True))
