# DINO baseline recipe (./baseline_dino-vit-b8_2k_cocostuff27-320.py) on frozen DINOv3 ViT-B/16,
# COCO-Stuff-27: same probe, schedule and 320x320 evaluation; only the backbone (768-d, 20x20
# patches) differs.
_base_ = ['./baseline_dino-vit-b8_2k_cocostuff27-320.py']
model = dict(
    data_preprocessor=dict(size_divisor=16),
    backbone=dict(
        type='DinoV3VisionTransformer',
        arch='base',
        patch_size=16,
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/dinov3-vitb16-pretrain-lvd1689m')))
