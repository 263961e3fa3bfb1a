# STEGO model on frozen DINO ViT-B/8 (docs/methods/stego.md): 70-d projection head trained on
# 224-px crops; evaluation with flip averaging and the dense CRF. A config adds num_classes and
# the correlation loss.
_base_ = ['./dino-vit-b8.py']
model = dict(
    decode_head=dict(type='StegoHead', in_channels=768, channels=70, dropout_ratio=0.1),
    test_cfg=dict(mode='whole', flip=True, crf=True))
