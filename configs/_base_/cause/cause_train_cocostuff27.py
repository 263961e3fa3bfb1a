# CAUSE's COCO-Stuff-27 training data: STEGO's five crops (crop ratio 0.5; make them once with
#   python tools/dataset_converters/five_crop.py configs/_base_/datasets/cocostuff27.py \
#       --split train --name cocostuff27
# ), each resized (shorter side, PIL nearest) and centre-cropped to the training size of the
# reference step: 320 (mediator, TR), 322 (DINOv2), 224 (MLP steps 2-3). Batch 16 per GPU,
# shuffled every epoch. A leaf sets train_crop_size and `train_dataloader =
# _base_.cause_loader_<size>`.
# One pipeline and one loader per training size; they differ only in that size.
# Evaluation: ../datasets/cocostuff27.py (322 for /14 backbones: ./cause_train_cocostuff27_322.py).
# The optimiser settings of each step (`cause_optim.<step>`, merged by the leaf): COCO-Stuff:
# max_norm 0.1 (MLP) / 2 (TR), weight decay 1e-4.
_base_ = ['../datasets/cocostuff27.py', '../default_runtime.py']
cause_pipeline_224, cause_pipeline_320, cause_pipeline_322 = [[
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(type='LoadAnnotations'),
    dict(type='LabelLUT', mapping='five_crop27', unmapped='error'),
    dict(type='ResizeShortSide', size=size, interpolation='nearest', backend='pillow'),
    dict(type='CenterCrop', crop_size=size),
    dict(type='PackSegInputs'),
] for size in (224, 320, 322)]
cause_loader_224, cause_loader_320, cause_loader_322 = [dict(
    batch_size=16,
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(
        ann_file='',
        data_prefix=dict(img_path='cropped/cocostuff27_five_crop_0.5/img/train',
                         seg_map_path='cropped/cocostuff27_five_crop_0.5/label/train'),
        pipeline=pipeline))
    for pipeline in (cause_pipeline_224, cause_pipeline_320, cause_pipeline_322)]
cause_optim = dict(
    mlp=dict(clip_grad=dict(max_norm=0.1), optimizer=dict(weight_decay=1e-4)),
    tr=dict(clip_grad=dict(max_norm=2.0), optimizer=dict(weight_decay=1e-4)),
    mlp_probe=dict(clip_grad=dict(max_norm=0.1), optimizer=dict(weight_decay=1e-4)),
    tr_probe=dict(clip_grad=dict(max_norm=2.0), optimizer=dict(weight_decay=1e-4)))
