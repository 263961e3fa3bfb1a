# DINO ViT-S/16, frozen, official weights (ImageNet mean/std on RGB input).
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    size_divisor=16,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='FrozenBackboneSegmentor',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='DinoVisionTransformer',
        arch='small',
        patch_size=16,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://dl.fbaipublicfiles.com/dino/dino_deitsmall16_pretrain/'
            'dino_deitsmall16_pretrain.pth')),
    test_cfg=dict(mode='whole'))
