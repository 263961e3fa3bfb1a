# PriMaPs-EM recipe (./primaps-em_dino-vit-b8_52e_cocostuff27-320.py) on frozen DINOv3 ViT-B/16,
# COCO-Stuff-27, 320x320.
# 1) Cache the proposals of this backbone:
#      python tools/precompute_primaps.py \
#          configs/primaps_em/primaps-em_dinov3-vit-b16_52e_cocostuff27-320.py
# 2) Train:
#      python tools/train.py configs/primaps_em/primaps-em_dinov3-vit-b16_52e_cocostuff27-320.py
_base_ = ['./primaps-em_dino-vit-b8_52e_cocostuff27-320.py']
proposal_root = 'data/primaps/primaps-em_dinov3-vit-b16_cocostuff27'
model = dict(
    data_preprocessor=dict(size_divisor=16),
    backbone=dict(
        type='DinoV3VisionTransformer',
        arch='base',
        patch_size=16,
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/dinov3-vitb16-pretrain-lvd1689m')))
train_dataloader = dict(dataset=dict(pipeline=[
    {{_base_.geometry}},
    dict(type='LoadPrimapsMasks', proposal_root=proposal_root),
    {{_base_.augment_and_pack}},
]))
primaps_precompute = dict(out_dir=proposal_root)
