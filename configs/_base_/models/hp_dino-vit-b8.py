# HP model on frozen DINO ViT-B/8 (docs/methods/hp.md): projection head with EMA copy and
# reference pools, trained on 224-px crops; evaluation with the dense CRF (no flip). A config adds
# channels, num_classes, pool size, EMA momentum and the losses.
_base_ = ['./dino-vit-b8.py']
model = dict(
    backbone=dict(out_attn=True),
    decode_head=dict(type='HPHead', in_channels=768, dropout_ratio=0.1, sigma=28.0),
    test_cfg=dict(mode='whole', crf=True))
