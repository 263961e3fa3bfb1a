# HP model on frozen DINO ViT-S/8 (docs/methods/hp.md): projection head with EMA copy and
# reference pools, trained on 224-px crops; evaluation with the dense CRF (no flip). A config adds
# channels, num_classes, pool size, EMA momentum and the losses.
_base_ = ['./dino-vit-s8.py']
model = dict(
    # STEGO/HP load the 300-epoch DINO ViT-S/8 teacher (docs/methods/stego.md#quirks Q18).
    backbone=dict(
        out_attn=True,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://dl.fbaipublicfiles.com/dino/dino_deitsmall8_300ep_pretrain/'
            'dino_deitsmall8_300ep_pretrain.pth')),
    decode_head=dict(type='HPHead', in_channels=384, dropout_ratio=0.1, sigma=28.0),
    test_cfg=dict(mode='whole', crf=True))
