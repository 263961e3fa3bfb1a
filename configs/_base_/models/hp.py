# HP model (docs/methods/hp.md): projection head with EMA copy and reference pools, trained on
# 224-px crops; evaluation with the dense CRF (no flip). LHP reads the backbone's last attention.
# configs/_base_/hp/<dataset>.py adds HP's per-dataset settings (json/server/<dataset>.json).
_base_ = ['./frozen_backbone.py']
model = dict(
    backbone=dict(out_attn=True), test_cfg=dict(mode='whole', crf=True),
    decode_head=dict(type='HPHead', dropout_ratio=0.1, sigma=28.0, loss_hp=dict(
        type='HiddenPositiveLoss', base_temperature=0.07, chunk_size=784)))
