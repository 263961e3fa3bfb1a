# MaskContrast pixel-embedding network (docs/methods/maskcontrast.md#hyper-parameters):
# torchvision-style ResNet-50 dilated to output stride 8 (mmseg ResNet, V1b stem) + DeepLab-v3 head
# with a 32-d embedding and a saliency logit; MoCo key encoder (m = 0.999) and a queue of mask
# prototypes.
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    size_divisor=8,  # output stride 8; the pipeline fixes the input size
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='MaskContrast',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='ResNet',
        depth=50,
        strides=(1, 2, 1, 1),
        dilations=(1, 1, 2, 4),
        contract_dilation=True,
        deep_stem=False,
        style='pytorch',
        out_indices=(3, ),
        norm_cfg=dict(type='BN', requires_grad=True),
        zero_init_residual=False),
    decode_head=dict(
        type='MaskContrastHead',
        in_channels=2048,
        channels=256,
        embed_dims=32,
        dilations=(1, 12, 24, 36),
        dropout_ratio=0.5,
        num_classes=21),
    loss_cfg=dict(type='MaskContrastLoss', temperature=0.5, saliency_weight=1.0),
    queue_size=128,
    momentum=0.999)
