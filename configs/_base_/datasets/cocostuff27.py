# COCO-Stuff-27, the curated USS benchmark (docs/datasets.md): raw
# COCO-Stuff stuffthingmaps (fine ids 0..181, 255 = unlabeled; NOT mmseg's 171-class
# *_labelTrainIds.png) mapped to 27 coarse classes, on IIC's curated image lists (one id
# per line; give your own file with `ann_file`). Layout:
#   data/coco_stuff164k/images/{train2017,val2017}/<id>.jpg
#   data/coco_stuff164k/annotations/{train2017,val2017}/<id>.png
#   data/coco_stuff164k/curated/train2017/Coco164kFull_Stuff_Coarse.txt    (STEGO/HP train)
#   data/coco_stuff164k/curated/val2017/Coco164kFull_Stuff_Coarse_7.txt    (val)
# PriMaPs trains on curated/train2017/Coco164kFull_Stuff_Coarse_7.txt instead.
# Protocol: shorter side -> 320, 320x320 centre crop, scored at 320x320 (322 for /14:
# cocostuff27_322.py); PIL nearest for images and labels (STEGO/HP; PriMaPs resizes images
# bilinearly). STEGO/HP train on five crops: cocostuff27_five_crop.py.
dataset_type = 'COCOStuff27Dataset'
data_root = 'data/coco_stuff164k'
crop_size = 320
train_pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(type='LoadAnnotations'),
    dict(type='LabelLUT', mapping='cocostuff27', unmapped='error'),
    dict(type='ResizeShortSide', size=crop_size, interpolation='nearest', backend='pillow'),
    dict(type='CenterCrop', crop_size=crop_size),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(type='LoadAnnotations'),
    dict(type='LabelLUT', mapping='cocostuff27', unmapped='error'),
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
        ann_file='curated/train2017/Coco164kFull_Stuff_Coarse.txt',
        data_prefix=dict(img_path='images/train2017', seg_map_path='annotations/train2017'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='curated/val2017/Coco164kFull_Stuff_Coarse_7.txt',
        data_prefix=dict(img_path='images/val2017', seg_map_path='annotations/val2017'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='HungarianIoUMetric', prefix='cluster'),
    dict(type='HungarianIoUMetric', pred_key='pred_linear_sem_seg', matching='none',
         prefix='linear'),
]
test_evaluator = val_evaluator
