# CAUSE-MLP head (docs/methods/cause.md), the same in steps 2 and 3: 90-d code, 2048-d
# projection, 2048 concepts, EMA teacher, modularity-trained cluster probe; evaluated without
# flip/CRF (the paper's numbers: tools/test.py --flip --crf).
_base_ = ['./frozen_backbone.py']
model = dict(
    decode_head=dict(type='CauseMLPHead', channels=90, num_codebook=2048, proj_channels=2048,
                     dropout_ratio=0.1, ema_momentum=0.99, grid_stride=4, cluster_alpha=3.0,
                     loss_probe=dict(type='CauseModularityLoss', temperature=0.1)),
    test_cfg=dict(mode='whole', flip=False, crf=False))
