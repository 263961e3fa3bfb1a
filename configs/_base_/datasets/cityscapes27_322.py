# Cityscapes-27 at 322x322 for /14 backbones (DINOv2;
# docs/datasets.md#protocol-cityscapes-27-coco-stuff-27-potsdam-3).
_base_ = ['./cityscapes27.py']
crop_size = 322
train_pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(type='LoadAnnotations'),
    dict(type='LabelLUT', mapping='cityscapes27', unmapped='error'),
    dict(type='ResizeShortSide', size=crop_size, interpolation='nearest', backend='pillow'),
    dict(type='CenterCrop', crop_size=crop_size),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(type='LoadAnnotations'),
    dict(type='LabelLUT', mapping='cityscapes27', unmapped='error'),
    dict(type='ResizeShortSide', size=crop_size, interpolation='nearest', backend='pillow'),
    dict(type='CenterCropAsOriginal', crop_size=crop_size),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
