# Training on your own images, worked on the embedded demo data (docs/own_images.md): the
# DINO-baseline method (cosine cluster probe on a frozen ViT) on the demo's training images read
# as a plain folder — no label file is opened for training — validated on the demo's labelled val
# split, so the cluster→class matching is found and stored with the checkpoints
# (ClusterMatchingHook). Like `make demo`, the ViT-tiny/4 is randomly initialised (offline).
# For a folder without any labelled subset, set val_cfg = None and test_cfg = None instead of the
# val/test settings below.
_base_ = [
    '../_base_/models/baseline.py', '../_base_/datasets/image_folder.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/frozen_probe_2k.py'
]
data_root = 'data/synthetic_textures'
num_clusters = 6
model = dict(
    backbone=dict(
        type='DinoVisionTransformer',
        arch=dict(embed_dims=96, num_layers=4, num_heads=3),
        patch_size=4,
        img_size=96,
        init_cfg=None),
    decode_head=dict(num_classes=num_clusters, linear_probe=False))
# The demo images are 96×96 already: no resizing for training; inference crops other images to
# a multiple of the patch (never zero-padding them).
patch_size = 4
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='CropToPatchMultiple', size_divisor=patch_size),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root, data_prefix=dict(img_path='img_dir/train'), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='ImageFolderDataset',
        data_root=data_root,
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
        metainfo=dict(
            classes=('grass', 'sky', 'brick', 'sand', 'water', 'stone'),
            palette=[[60, 160, 50], [110, 170, 240], [190, 70, 50], [225, 200, 120],
                     [30, 70, 150], [130, 130, 130]]),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='CropToPatchMultiple', size_divisor=patch_size),
            dict(type='PackSegInputs')
        ]))
test_dataloader = val_dataloader
val_evaluator = dict(type='HungarianIoUMetric', prefix='cluster', num_clusters=num_clusters)
test_evaluator = val_evaluator
custom_hooks = [dict(type='PrototypeInitHook', method='kmeans', num_batches=4)]
optim_wrapper = dict(optimizer=dict(type='Adam', lr=5e-3))
train_cfg = dict(max_iters=100, val_interval=100)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=100, max_keep_ckpts=1),
    visualization=dict(interval=1))
