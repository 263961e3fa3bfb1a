# PASCAL VOC 2012, 21 classes incl. background (MaskContrast, docs/methods/maskcontrast.md; protocol
# in docs/datasets.md), with mmseg's PascalVOCDataset on the official layout:
#   data/VOCdevkit/VOC2012/JPEGImages/<id>.jpg
#   data/VOCdevkit/VOC2012/SegmentationClass/<id>.png      (palette png: 0..20, 255 = void)
#   data/VOCdevkit/VOC2012/ImageSets/Segmentation/{train,val}.txt
# (train_aug: point seg_map_path/ann_file at mmseg's voc_aug converter output.) Protocol: images
# resized to a fixed 512x512 (aspect ratio not kept, bicubic); the annotation stays at its original
# size and predictions are resized back to it, so scoring happens at the original resolution. The
# train pipeline (linear probe) has MaskContrast's flip and fixed 512x512 resize but not its ±25%
# zoom / ±5° rotation.
dataset_type = 'PascalVOCDataset'
data_root = 'data/VOCdevkit/VOC2012'
crop_size = 512  # the fixed square input side (evaluation resolution)
num_classes = 21
label_map = dict(type='LabelLUT', mapping='voc21', unmapped='error')
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    label_map,
    dict(type='RandomFlip', prob=0.5),
    dict(type='Resize', scale=(crop_size, crop_size), keep_ratio=False, interpolation='bicubic'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(crop_size, crop_size), keep_ratio=False, interpolation='bicubic'),
    dict(type='LoadAnnotations'),
    label_map,
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
        ann_file='ImageSets/Segmentation/train.txt',
        data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='ImageSets/Segmentation/val.txt',
        data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='HungarianIoUMetric', prefix='cluster')
test_evaluator = val_evaluator
