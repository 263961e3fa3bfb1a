# PriMaPs-EM on COCO-Stuff-27 at 322×322 for /14 backbones (DINOv2;
# docs/methods/primaps_em.md#hyper-parameters).
_base_ = ['./cocostuff27.py']
crop_size = 322
geometry = dict(
    type='Compose',
    transforms=[
        dict(type='LoadImageFromFile', imdecode_backend='pillow'),
        dict(type='LoadAnnotations'),
        dict(type='LabelLUT', mapping='cocostuff27', unmapped='error'),
        dict(type='ResizeShortSide', size=crop_size, interpolation='bilinear', backend='pillow'),
        dict(type='CenterCrop', crop_size=crop_size),
    ])
test_pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(type='LoadAnnotations'),
    dict(type='LabelLUT', mapping='cocostuff27', unmapped='error'),
    dict(type='ResizeShortSide', size=crop_size, interpolation='bilinear', backend='cv2'),
    dict(type='CenterCropAsOriginal', crop_size=crop_size),
    dict(type='PackSegInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
primaps_precompute = dict(
    dataloader=dict(dataset=dict(pipeline=[geometry, dict(type='PackSegInputs')])))
