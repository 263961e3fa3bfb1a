# DINOv3 ViT-B/16, frozen, LVD-1689M weights (ImageNet mean/std on RGB input).
# checkpoint: the Hugging Face hub folder facebook/dinov3-vitb16-pretrain-lvd1689m (config.json +
# model.safetensors, gated: accept the licence, then
#   huggingface-cli download facebook/dinov3-vitb16-pretrain-lvd1689m \
#       --local-dir checkpoints/dinov3-vitb16-pretrain-lvd1689m)
# or the official dinov3_vitb16_pretrain_lvd1689m-*.pth file (docs/backbones.md).
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
        type='DinoV3VisionTransformer',
        arch='base',
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/dinov3-vitb16-pretrain-lvd1689m')),
    test_cfg=dict(mode='whole'))
