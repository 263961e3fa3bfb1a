# DINOv2 ViT-B/14 with 4 registers, frozen, official weights (ImageNet mean/std on RGB input).
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    size_divisor=14,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='FrozenBackboneSegmentor',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='DinoV2VisionTransformer',
        arch='base',
        patch_size=14,
        num_register_tokens=4,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://dl.fbaipublicfiles.com/dinov2/dinov2_vitb14/'
            'dinov2_vitb14_reg4_pretrain.pth')),
    test_cfg=dict(mode='whole'))
