# STEGO recipe (./stego_dino-vit-b8_5k_cocostuff27-320.py) on frozen DINOv3 ViT-B/16, COCO-Stuff-27:
# five 224-px crops (14x14 patches) with KNN partners of this backbone, evaluated at 320 px. KNN
# table first:
#   python tools/precompute_knns.py configs/stego/stego_dinov3-vit-b16_5k_cocostuff27-320.py
_base_ = ['./stego_dino-vit-b8_5k_cocostuff27-320.py']
knn_file = 'data/coco_stuff164k/nns/nns_dinov3-vit-b16_cocostuff27_train.npz'
model = dict(
    data_preprocessor=dict(size_divisor=16),
    backbone=dict(
        type='DinoV3VisionTransformer',
        arch='base',
        patch_size=16,
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/dinov3-vitb16-pretrain-lvd1689m')))
train_dataloader = dict(dataset=dict(knn_file=knn_file))
