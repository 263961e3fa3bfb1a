# Cityscapes-27 (docs/datasets.md#protocol-cityscapes-27-coco-stuff-27-potsdam-3): the 27 classes
# are labelIds 7..33 of the official gtFine *_labelIds.png (NOT mmseg's 19-class
# *_labelTrainIds.png); ids 0..6 are ignored. Layout (the official one):
#   data/cityscapes/leftImg8bit/{train,val}/<city>/*_leftImg8bit.png
#   data/cityscapes/gtFine/{train,val}/<city>/*_gtFine_labelIds.png
# Protocol: shorter side -> 320 then a 320x320 centre crop, scored at 320x320 (322 for /14
# backbones: cityscapes27_322.py). Images and labels use PIL nearest (STEGO/HP, torchvision Resize
# on PIL images); PriMaPs resizes images bilinearly: override `interpolation` of ResizeShortSide in
# its configs. ImageNet normalisation is the model's SegDataPreProcessor (configs/_base_/models/).
# The train split here is the full-resolution one with one centre crop per image (PriMaPs); STEGO/HP
# train on five crops: cityscapes27_five_crop.py.
dataset_type = 'Cityscapes27Dataset'
data_root = 'data/cityscapes'
crop_size = 320
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
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='HungarianIoUMetric', prefix='cluster'),
    dict(type='HungarianIoUMetric', pred_key='pred_linear_sem_seg', matching='none',
         prefix='linear'),
]
test_evaluator = val_evaluator
