# HP recipe (./hp_dino-vit-b8_30e_cityscapes27-320.py) on frozen DINOv3 ViT-B/16, Cityscapes-27:
# five 224-px crops (14x14 patches; LHP reads the last block's patch-token attention logits), 320-px
# evaluation. sigma stays HP's 28 (the side of its /8 grid; the /16 grid is 14 wide): not tuned for
# DINOv3.
_base_ = ['./hp_dino-vit-b8_30e_cityscapes27-320.py']
model = dict(
    data_preprocessor=dict(size_divisor=16),
    backbone=dict(
        type='DinoV3VisionTransformer',
        arch='base',
        patch_size=16,
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/dinov3-vitb16-pretrain-lvd1689m')))
