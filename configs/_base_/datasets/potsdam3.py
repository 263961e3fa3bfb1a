# Potsdam-3 (docs/datasets.md): IIC's labelled Potsdam crops, fine labels (impervious
# surface, building, low vegetation, tree, car, clutter) merged to roads and cars /
# buildings and clutter / trees and vegetation. mmseg's PotsdamDataset reads png files;
# convert STEGO's potsdam archive (imgs/<id>.mat, gt/<id>.mat, labelled_train.txt,
# labelled_test.txt) once with
#   python tools/dataset_converters/potsdam3_mat_to_png.py data/potsdam data/potsdam3
# which writes data/potsdam3/{img_dir,ann_dir}/{train,val}/<id>.png (fine labels 0..5,
# 255 = ignore). Protocol: shorter side -> 320, 320x320 centre crop, scored at 320x320
# (322 for /14: potsdam3_322.py); PIL nearest for images and labels. Never five-cropped.
dataset_type = 'Potsdam3Dataset'
data_root = 'data/potsdam3'
crop_size = 320
train_pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(type='LoadAnnotations'),
    dict(type='LabelLUT', mapping='potsdam3', unmapped='error'),
    dict(type='ResizeShortSide', size=crop_size, interpolation='nearest', backend='pillow'),
    dict(type='CenterCrop', crop_size=crop_size),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', imdecode_backend='pillow'),
    dict(type='LoadAnnotations'),
    dict(type='LabelLUT', mapping='potsdam3', unmapped='error'),
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
        data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='HungarianIoUMetric', prefix='cluster'),
    dict(type='HungarianIoUMetric', pred_key='pred_linear_sem_seg', matching='none',
         prefix='linear'),
]
test_evaluator = val_evaluator
