# PASCAL VOC 2012 val at 322x322 for /14 backbones (DINOv2), otherwise as pascal_voc_320.py.
_base_ = ['./pascal_voc_320.py']
crop_size = 322
test_pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(type='LoadAnnotations'),
    dict(type='LabelLUT', mapping='voc21', unmapped='error'),
    dict(type='Resize', scale=(crop_size, crop_size), keep_ratio=False, interpolation='nearest',
         backend='pillow'),
    dict(type='CenterCropAsOriginal', crop_size=(crop_size, crop_size)),
    dict(type='PackSegInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
