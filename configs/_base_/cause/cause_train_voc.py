# CAUSE's PASCAL VOC training data (reference crop_dataset.py --crop_type super): the 1,464
# images of VOC 2012 train (ImageSets/Segmentation/train.txt, not train_aug), each cut into 50
# "super" crops (torchvision ten_crop at crop ratios 0.3, 0.4, 0.5, 0.6, 0.7), 73,200 crops.
# Make them once with
#   python tools/dataset_converters/five_crop.py configs/_base_/datasets/pascal_voc.py \
#       --split train --name pascalvoc --crop-type super
# which writes data/VOCdevkit/VOC2012/cropped/pascalvoc_super_crop_0/{img,label}/train/<n>.{jpg,png}
# (labels hold class + 1, 0 = ignore: LabelLUT 'super_crop21'). Each crop is resized to a fixed
# square (aspect ratio not kept, PIL nearest for image and labels, no centre crop: the reference's
# VOC transform) of the training size of the reference step: 320 (mediator, TR), 322 (DINOv2),
# 224 (MLP steps 2-3). Batch 16 per GPU, shuffled every epoch. A leaf sets train_crop_size and
# `train_dataloader = _base_.cause_loader_<size>`.
# Evaluation: ../datasets/pascal_voc_320.py (322 for /14 backbones: ./cause_train_voc_322.py).
# The optimiser settings of each step (`cause_optim.<step>`, merged by the leaf): VOC: step 2 as
# COCO-Stuff (the reference's step-2 script has no VOC setting,
# docs/methods/cause.md#pascal-voc), step 3 without clipping (the
# reference's step 3 clips on COCO-Stuff and Cityscapes only).
_base_ = ['../datasets/pascal_voc_320.py', '../default_runtime.py']
cause_pipeline_224, cause_pipeline_320, cause_pipeline_322 = [[
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(type='LoadAnnotations'),
    dict(type='LabelLUT', mapping='super_crop21', unmapped='error'),
    dict(type='Resize', scale=(size, size), keep_ratio=False, interpolation='nearest',
         backend='pillow'),
    dict(type='PackSegInputs'),
] for size in (224, 320, 322)]
cause_loader_224, cause_loader_320, cause_loader_322 = [dict(
    batch_size=16,
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='PascalVOC21Dataset',
        ann_file='',
        data_prefix=dict(img_path='cropped/pascalvoc_super_crop_0/img/train',
                         seg_map_path='cropped/pascalvoc_super_crop_0/label/train'),
        pipeline=pipeline))
    for pipeline in (cause_pipeline_224, cause_pipeline_320, cause_pipeline_322)]
cause_optim = dict(
    mlp=dict(clip_grad=dict(max_norm=0.1), optimizer=dict(weight_decay=1e-4)),
    tr=dict(clip_grad=dict(max_norm=2.0), optimizer=dict(weight_decay=1e-4)),
    mlp_probe=dict(clip_grad=None, clip_prefixes=(), optimizer=dict(weight_decay=1e-4)),
    tr_probe=dict(clip_grad=None, clip_prefixes=(), optimizer=dict(weight_decay=1e-4)))
