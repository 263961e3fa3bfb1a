# STEGO model (docs/methods/stego.md): 70-d projection head trained on 224-px crops; evaluation
# with flip averaging and the dense CRF. configs/_base_/stego/<dataset>.py adds the loss weights.
_base_ = ['./frozen_backbone.py']
model = dict(
    decode_head=dict(type='StegoHead', channels=70, dropout_ratio=0.1, loss_corr=dict(
        type='StegoCorrelationLoss', feature_samples=11, neg_samples=5, pointwise=True,
        zero_clamp=True)),
    test_cfg=dict(mode='whole', flip=True, crf=True))
