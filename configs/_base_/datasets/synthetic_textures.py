# The embedded synthetic dataset of `make demo` (mmuss.datasets.synthetic_textures):
# 6 textured classes, Voronoi layouts, 96×96 images, train/val splits.
dataset_type = 'BaseSegDataset'
data_root = 'data/synthetic_textures'
metainfo = dict(
    classes=('grass', 'sky', 'brick', 'sand', 'water', 'stone'),
    palette=[[60, 160, 50], [110, 170, 240], [190, 70, 50], [225, 200, 120], [30, 70, 150],
             [130, 130, 130]])
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        img_suffix='.png',
        seg_map_suffix='.png',
        data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        img_suffix='.png',
        seg_map_suffix='.png',
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='HungarianIoUMetric', prefix='cluster'),
    dict(type='HungarianIoUMetric', pred_key='pred_linear_sem_seg', matching='none',
         prefix='linear'),
]
test_evaluator = val_evaluator
