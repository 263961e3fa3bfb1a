# CAUSE's COCO-Stuff-27 training data: STEGO's five crops (crop ratio 0.5; make them once with
#   python tools/dataset_converters/five_crop.py configs/_base_/datasets/cocostuff27.py \
#       --split train --name cocostuff27
# ), each resized (shorter side, PIL nearest) and centre-cropped to the training size of the
# reference step: 320 (mediator, TR), 322 (DINOv2), 224 (MLP steps 2-3). Batch 16 per GPU,
# shuffled every epoch. A leaf sets
#   train_dataloader = {{_base_.cause_loader_320}}  (or _224, _322)
# One pipeline and one loader per training size; they differ only in that size.
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
