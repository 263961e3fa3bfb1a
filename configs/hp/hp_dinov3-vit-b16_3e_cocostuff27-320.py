# HP COCO-Stuff-27 recipe (./hp_dino-vit-s8_3e_cocostuff27-320.py, HP's cocostuff.json) on frozen
# DINOv3 ViT-B/16 (768-d): five 224-px crops (14x14 patches), 320-px evaluation. sigma stays HP's 28
# (the side of its /8 grid; the /16 grid is 14 wide): not tuned for DINOv3.
_base_ = ['./hp_dino-vit-s8_3e_cocostuff27-320.py']
model = dict(
    data_preprocessor=dict(size_divisor=16),
    backbone=dict(
        type='DinoV3VisionTransformer',
        arch='base',
        patch_size=16,
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/dinov3-vitb16-pretrain-lvd1689m')),
    decode_head=dict(in_channels=768))
