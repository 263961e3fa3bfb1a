# MaskContrast on a frozen DINO ViT-S/16 with saliency masks made from DINO itself
# (tools/maskcontrast_dino_saliency.py), so no saliency network is needed at all.
# Not in the paper: the backbone is frozen and shared by the query and key encoders (only
# the DeepLab head has a momentum copy), and the ASPP rates are scaled to the 14x14 patch
# grid of a 224 crop (1, 2, 4, 6) instead of the 28x28 grid of the dilated ResNet.
# Generate the masks first:
#   python tools/maskcontrast_dino_saliency.py data/VOCdevkit/VOC2012 \
#       --split ImageSets/Segmentation/trainaug.txt --out-dir saliency_dino_vit-s16 \
#       --list-out ImageSets/Segmentation/trainaug_dino_saliency.txt
_base_ = [
    '../_base_/models/dino-vit-s16.py',
    '../_base_/datasets/pascal_voc_saliency.py',
    '../_base_/schedules/maskcontrast_40e.py',
    '../_base_/default_runtime.py',
]
log_processor = dict(by_epoch=True)
saliency_dir = 'saliency_dino_vit-s16'
model = dict(
    _delete_=True,
    type='MaskContrast',
    data_preprocessor={{_base_.model.data_preprocessor}},
    backbone={{_base_.model.backbone}},
    decode_head=dict(
        type='MaskContrastHead',
        in_channels=384,
        channels=256,
        embed_dims=32,
        dilations=(1, 2, 4, 6),
        dropout_ratio=0.5,
        num_classes=21),
    loss_cfg=dict(type='MaskContrastLoss', temperature=0.5, saliency_weight=1.0),
    freeze_backbone=True,
    queue_size=128,
    momentum=0.999)
train_dataloader = dict(
    batch_size=64,
    dataset=dict(
        ann_file='ImageSets/Segmentation/trainaug_dino_saliency.txt',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadSaliencyMask', saliency_dir=saliency_dir, threshold=255,
                 min_component_fraction=0.01),
            dict(type='MaskContrastViews', view_pipeline={{_base_.view_pipeline}},
                 min_foreground=0.01, max_foreground=0.99, max_tries=3),
            dict(type='PackMultiViewSegInputs', pixel_keys=['gt_saliency', 'gt_key_saliency']),
        ]))
